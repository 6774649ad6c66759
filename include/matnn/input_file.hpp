// Inputs that are not files. Every reader calls this before it opens a path, so that a missing
// path, a folder or an unreadable file gets the same plain message (and MATNN_ERROR_IO) whatever
// the format, instead of whatever the format's library makes of it (a folder read as a stream
// of unknown length was once reported as "out of memory").
#pragma once

#include <string>
#include <string_view>

namespace matnn {

/// Throws MATNN_ERROR_IO naming `path` unless it is an existing file that can be opened for
/// reading: "no such file", "is a directory, not <what>", "cannot open for reading (<reason>)".
/// `what` names the expected content with its article ("a dataset file", "an extended XYZ file").
void check_input_file(const std::string& path, std::string_view what);

}  // namespace matnn
