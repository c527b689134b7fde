#pragma once
// The engine reports every failure as a kvscope::Error (or a subclass) whose
// message is one line that names the problem and, where there is one, the
// field, key, tensor or byte offset. Front ends print what() and exit.
#include <stdexcept>
#include <string>

namespace kvscope {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A setting or argument outside its allowed range (the user can fix it).
class InvalidSetting : public Error {
public:
    using Error::Error;
};

}  // namespace kvscope
