// Words shared between processes through a MAP_SHARED mapping: atomic loads and stores with
// acquire/release order, a seqlock-protected record of a partition's published end, and futex
// waits and wakes on a shared (not process-private) word. docs/FORMAT.md, "The live files",
// describes the layout these functions read and write.
#define _GNU_SOURCE
#include "CStreamStoreShims.h"
#include <errno.h>
#include <limits.h>
#include <time.h>
#include <sys/file.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

uint64_t ss_shared_load_u64(const void *address) {
    return __atomic_load_n((const uint64_t *)address, __ATOMIC_ACQUIRE);
}

void ss_shared_store_u64(void *address, uint64_t value) {
    __atomic_store_n((uint64_t *)address, value, __ATOMIC_RELEASE);
}

uint32_t ss_shared_load_u32(const void *address) {
    return __atomic_load_n((const uint32_t *)address, __ATOMIC_ACQUIRE);
}

uint32_t ss_shared_increment_u32(void *address) {
    return __atomic_add_fetch((uint32_t *)address, 1, __ATOMIC_RELEASE);
}

// A slot: word 0 is its sequence (odd while a write is under way), words 1...count its values.
void ss_slot_write(void *slot, const uint64_t *values, int count) {
    uint64_t *words = (uint64_t *)slot;
    uint64_t sequence = __atomic_load_n(&words[0], __ATOMIC_RELAXED);
    __atomic_store_n(&words[0], sequence + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (int index = 0; index < count; index++) {
        __atomic_store_n(&words[index + 1], values[index], __ATOMIC_RELAXED);
    }
    __atomic_store_n(&words[0], sequence + 2, __ATOMIC_RELEASE);
}

int ss_slot_read(const void *slot, uint64_t *values, int count) {
    const uint64_t *words = (const uint64_t *)slot;
    uint64_t before = __atomic_load_n(&words[0], __ATOMIC_ACQUIRE);
    if (before & 1) return 0;
    for (int index = 0; index < count; index++) {
        values[index] = __atomic_load_n(&words[index + 1], __ATOMIC_RELAXED);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint64_t after = __atomic_load_n(&words[0], __ATOMIC_RELAXED);
    return before == after ? 1 : 0;
}

int ss_futex_wait(const void *address, uint32_t expected, int64_t timeout_nanoseconds) {
#if defined(__linux__)
    struct timespec timeout;
    struct timespec *limit = NULL;
    if (timeout_nanoseconds >= 0) {
        timeout.tv_sec = (time_t)(timeout_nanoseconds / 1000000000);
        timeout.tv_nsec = (long)(timeout_nanoseconds % 1000000000);
        limit = &timeout;
    }
    // Not FUTEX_PRIVATE_FLAG: the word is shared with other processes.
    long result = syscall(SYS_futex, (const uint32_t *)address, FUTEX_WAIT, expected, limit, NULL, 0);
    return result == 0 ? 0 : -1;
#else
    (void)address; (void)expected;
    struct timespec pause = {0, timeout_nanoseconds >= 0 && timeout_nanoseconds < 1000000 ? timeout_nanoseconds : 1000000};
    nanosleep(&pause, NULL);
    errno = ETIMEDOUT;
    return -1;
#endif
}

int ss_futex_wake_all(void *address) {
#if defined(__linux__)
    long result = syscall(SYS_futex, (uint32_t *)address, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    return result < 0 ? -1 : (int)result;
#else
    (void)address;
    return 0;
#endif
}

int ss_flock_shared_nonblocking(int fd) {
    return flock(fd, LOCK_SH | LOCK_NB);
}
