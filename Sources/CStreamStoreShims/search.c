// Byte-string search that Glibc does not expose to Swift without _GNU_SOURCE.
#define _GNU_SOURCE
#include "CStreamStoreShims.h"
#include <string.h>

int ss_contains(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    if (needle_length == 0) return 1;
    return memmem(haystack, haystack_length, needle, needle_length) != NULL;
}
