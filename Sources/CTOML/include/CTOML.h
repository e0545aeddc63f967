#ifndef CTOML_H
#define CTOML_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
/// Parses TOML text and returns it as a newly allocated JSON string (free it with `free`), or NULL
/// with a newly allocated message in `*error` that gives toml++'s line and column.
char *ctoml_to_json(const char *text, size_t length, char **error);
#ifdef __cplusplus
}
#endif
#endif
