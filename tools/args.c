/* args: the command-line parser of labsim's subcommands (see args.h). */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool args_parse_u64(const char *text, uint64_t *out)
{
    if (text == NULL || text[0] < '0' || text[0] > '9') return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') return false;
    *out = (uint64_t)v;
    return true;
}

int args_check_writable(const char *path, char *err, size_t err_size)
{
    struct stat st;
    bool existed = stat(path, &st) == 0;
    FILE *f = fopen(path, "a");
    if (f == NULL) {
        snprintf(err, err_size, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    if (fclose(f) != 0) {
        snprintf(err, err_size, "cannot write '%s': %s", path, strerror(errno));
        if (!existed) remove(path);
        return -1;
    }
    if (!existed) remove(path);
    return 0;
}

static const struct args_flag *flag_find(const struct args_flag *flags, size_t flags_count,
                                         const char *name, size_t name_len)
{
    for (size_t i = 0; i < flags_count; i++) {
        if (strlen(flags[i].name) == name_len && strncmp(flags[i].name, name, name_len) == 0)
            return &flags[i];
    }
    return NULL;
}

/* Stores one flag's value; -1 with err set when it is malformed or repeated. */
static int flag_store(const struct args_flag *flag, bool *given, const char *value, char *err,
                      size_t err_size)
{
    if (*given) {
        snprintf(err, err_size, "flag --%s given twice", flag->name);
        return -1;
    }
    switch (flag->kind) {
    case ARGS_U64:
        if (!args_parse_u64(value, flag->out)) {
            snprintf(err, err_size, "flag --%s needs an unsigned integer, got '%s'", flag->name,
                     value);
            return -1;
        }
        break;
    case ARGS_STR:
        if (value[0] == '\0') {
            snprintf(err, err_size, "flag --%s needs a non-empty value", flag->name);
            return -1;
        }
        *(const char **)flag->out = value;
        break;
    case ARGS_BOOL:
        *(bool *)flag->out = true;
        break;
    }
    *given = true;
    if (flag->seen != NULL) *flag->seen = true;
    return 0;
}

/* Handles argv[*i], a "--name[=value]" flag; advances *i past a separate value. */
static int parse_flag(int argc, char **argv, int *i, const struct args_flag *flags,
                      size_t flags_count, bool *given, char *err, size_t err_size)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const struct args_flag *flag = flag_find(flags, flags_count, name, name_len);
    if (flag == NULL) {
        snprintf(err, err_size, "unknown flag '%.*s'", (int)(name_len + 2), argv[*i]);
        return -1;
    }
    if (flag->kind == ARGS_BOOL) {
        if (eq != NULL) {
            snprintf(err, err_size, "flag --%s takes no value", flag->name);
            return -1;
        }
        return flag_store(flag, &given[flag - flags], "", err, err_size);
    }
    if (eq != NULL) return flag_store(flag, &given[flag - flags], eq + 1, err, err_size);
    if (*i + 1 >= argc) {
        snprintf(err, err_size, "flag --%s needs a value", flag->name);
        return -1;
    }
    *i += 1;
    return flag_store(flag, &given[flag - flags], argv[*i], err, err_size);
}

int args_parse(int argc, char **argv, const struct args_flag *flags, size_t flags_count,
               const char **positional, size_t positional_max, size_t *positional_count, char *err,
               size_t err_size)
{
    bool flags_done = false;
    bool given[ARGS_FLAGS_MAX] = {false};
    *positional_count = 0;
    if (flags_count > ARGS_FLAGS_MAX) {
        snprintf(err, err_size, "internal error: more than %u flags", ARGS_FLAGS_MAX);
        return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!flags_done && strcmp(arg, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (!flags_done && strncmp(arg, "--", 2) == 0) {
            if (parse_flag(argc, argv, &i, flags, flags_count, given, err, err_size) != 0)
                return -1;
            continue;
        }
        if (!flags_done && arg[0] == '-' && arg[1] != '\0') {
            snprintf(err, err_size, "unknown flag '%s' (flags are spelled --name)", arg);
            return -1;
        }
        if (*positional_count >= positional_max) {
            snprintf(err, err_size, "unexpected argument '%s'", arg);
            return -1;
        }
        positional[(*positional_count)++] = arg;
    }
    return 0;
}
