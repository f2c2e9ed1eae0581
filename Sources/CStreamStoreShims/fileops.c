// File operations that Glibc does not expose to Swift without _GNU_SOURCE.
#define _GNU_SOURCE
#include "CStreamStoreShims.h"
#include <fcntl.h>
#include <unistd.h>
#include <sys/file.h>
#include <errno.h>

int ss_fallocate(int fd, int64_t offset, int64_t length) {
    return posix_fallocate(fd, (off_t)offset, (off_t)length);
}

int ss_fdatasync(int fd) {
#if defined(__linux__)
    return fdatasync(fd);
#else
    return fsync(fd);
#endif
}

int ss_flock(int fd, int exclusive_nonblocking) {
    return flock(fd, exclusive_nonblocking ? (LOCK_EX | LOCK_NB) : LOCK_UN);
}

int ss_flock_lock(int fd, int exclusive, int wait) {
    int operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
    int result;
    do {
        result = flock(fd, operation);
    } while (result != 0 && errno == EINTR);
    return result;
}
