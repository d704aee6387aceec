// Exceptions the core throws. Each maps to the Python class of the same name in
// vecsearch/errors.py (see bindings/module.cpp); the binding edge is the only translator.
#pragma once

#include <stdexcept>
#include <string>

namespace vecsearch {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct InvalidArgument : Error {  // -> ValueError
    using Error::Error;
};
struct DimensionError : Error {
    using Error::Error;
};
struct DuplicateIdError : Error {
    using Error::Error;
};
struct UnknownIdError : Error {
    using Error::Error;
};
struct FormatError : Error {
    using Error::Error;
};
struct IoError : Error {  // -> OSError: the disk failed under a search (vectors on disk)
    using Error::Error;
};
struct StaleFilterError : Error {  // internal: the caller rebuilds its filter bitmaps and retries
    using Error::Error;
};

}  // namespace vecsearch
