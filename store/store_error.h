// StoreError: the typed exception of the persistent store and its data directory (DESIGN.md, Error
// policy 3: environment failures raise typed exceptions that reach the command line as one clear
// sentence). what() is that sentence, naming the directory; kind() lets callers and tests tell the
// cases apart without parsing text.
#pragma once

#include <stdexcept>
#include <string>

namespace chatter {

class StoreError : public std::runtime_error {
 public:
  enum class Kind {
    kSchemaMismatch,  // the store was written by a chatter with another schema version
    kCorrupted,       // a damaged or truncated data file, or a stored record that does not decode
    kMapFull,         // the LMDB map (the store's size limit) is full
    kDiskFull,        // ENOSPC
    kReadOnly,        // EACCES / EROFS: the directory or file cannot be written
    kInUse,           // another chatter process holds the data directory
    kOther,           // any other LMDB or system error (the sentence carries mdb_strerror / strerror)
  };

  StoreError(Kind kind, const std::string& sentence) : std::runtime_error(sentence), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace chatter
