// The page served at GET / (net/http_json.h): one self-contained HTML document (its CSS and JS
// inline, nothing loaded from elsewhere) that draws the recent hashgraph live from /graph and shows
// the node's state, rounds, blocks, transactions per second and peers from /stats, polling both
// once a second. One column per creator, events as dots with their parent edges, rounds shaded,
// witnesses ringed (famous ones filled gold), events coloured by the block that committed them
// (light grey while undetermined, dark grey when ordered into a round that made no block).
//
// For tests and scripts the page writes what it drew into attributes of <body>: data-updates (polls
// answered), data-events (events drawn), data-event-count (the node's total), data-last-round,
// data-witnesses, data-famous, data-committed (events with a block), data-blocks, data-state, and
// data-error (the last failure, empty when none).
#pragma once

#include <string_view>

namespace chatter {

inline constexpr std::string_view kGraphPageContentType = "text/html; charset=utf-8";

std::string_view graph_page_html();

}  // namespace chatter
