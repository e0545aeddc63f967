#include "CTOML.h"
#include <toml++/toml.h>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

static char *copy_string(const std::string &value) {
    char *out = static_cast<char *>(std::malloc(value.size() + 1));
    if (out != nullptr) std::memcpy(out, value.c_str(), value.size() + 1);
    return out;
}

extern "C" char *ctoml_to_json(const char *text, size_t length, char **error) {
    *error = nullptr;
    try {
        toml::table table = toml::parse(std::string_view(text, length));
        std::ostringstream out;
        out << toml::json_formatter{table};
        return copy_string(out.str());
    } catch (const toml::parse_error &failure) {
        std::ostringstream message;
        const auto &begin = failure.source().begin;
        message << "line " << begin.line << ", column " << begin.column << ": " << failure.description();
        *error = copy_string(message.str());
        return nullptr;
    } catch (const std::exception &failure) {
        *error = copy_string(failure.what());
        return nullptr;
    }
}
