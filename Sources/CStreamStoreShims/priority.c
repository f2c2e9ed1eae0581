// Thread priority, which Glibc does not expose to Swift without _GNU_SOURCE (gettid).
#define _GNU_SOURCE
#include "CStreamStoreShims.h"
#include <sys/resource.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

int ss_lower_thread_priority(void) {
#if defined(__linux__)
    // On Linux the nice value is per thread: this lowers only the calling thread.
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
#else
    return 0;
#endif
}
