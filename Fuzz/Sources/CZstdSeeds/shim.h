// libzstd for the batch decoder's seeds: a frame written without its content size, which the
// engine's own writer never makes, but other Kafka producers do.
#include <zstd.h>
