// libzstd from the system (Debian: libzstd-dev), for zstd-compressed batches (Kafka codec 4).
#include <zstd.h>
#include <zstd_errors.h>
