/* kvraft graded tests (lab 4A-4B). Placeholder table until the kvraft suite lands. */
#include "lab.h"

const struct lab_test lab_kv_tests[1] = {{0}};
const size_t lab_kv_tests_count = 0;
