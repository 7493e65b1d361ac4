// A node's key files in its data directory (spec/cli.md, `chatter keygen`):
//
//   DIR/priv_key  mode 0600; one line: the 64-byte Ed25519 secret key (KeyPair::secret_bytes, that is
//                 seed || public key) as 128 lower-case hex characters, then a newline.
//   DIR/key.pub   one line: the public key as "0X" + 64 upper-case hex characters (pubkey_hex, the
//                 PubKeyHex of peers.json), then a newline.
//
// Used by `chatter keygen` (write) and `chatter run` / `chatter testnet` (load).
#pragma once

#include <optional>
#include <string>

#include "engine/crypto.h"

namespace chatter::cmd {

inline constexpr const char* kPrivKeyFile = "priv_key";
inline constexpr const char* kPubKeyFile = "key.pub";

// Writes DIR/priv_key and DIR/key.pub for `key`. Creates DIR (and missing parents) with mode 0700.
// Refuses when either file already exists (never overwrites a key, even one created concurrently).
// Each file is written to a temporary name in DIR, fsynced, then linked into place, and DIR is
// fsynced, so a crash leaves either no key file or a complete one, never half a key. On failure,
// returns false with one sentence in `error` and leaves no file of its own behind.
bool write_key_files(const std::string& datadir, const KeyPair& key, std::string& error);

// Reads DIR/priv_key. nullopt with one sentence in `error` when the file is missing or unreadable,
// is not 128 hex characters on one line (surrounding whitespace is ignored), or its two halves do
// not form a key pair (KeyPair::from_secret).
std::optional<KeyPair> load_key(const std::string& datadir, std::string& error);

}  // namespace chatter::cmd
