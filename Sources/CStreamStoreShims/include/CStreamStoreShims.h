#ifndef C_STREAM_STORE_SHIMS_H
#define C_STREAM_STORE_SHIMS_H

#include <stddef.h>
#include <stdint.h>

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) of `length` bytes, continuing from `crc`.
/// Pass 0 to start. Uses the SSE4.2 `crc32` instruction when the CPU has it (checked once at run
/// time), else a slicing-by-8 table. crc32c("123456789") == 0xE3069283.
uint32_t ss_crc32c(uint32_t crc, const void *bytes, size_t length);

/// The portable table implementation, exposed so tests can check both paths agree.
uint32_t ss_crc32c_portable(uint32_t crc, const void *bytes, size_t length);

/// 1 when the hardware path is in use.
int ss_crc32c_is_hardware(void);

/// posix_fallocate: reserves blocks so a later write through a mapping cannot fault on a full disk.
/// Returns 0 or an errno value (posix_fallocate returns its error instead of setting errno).
int ss_fallocate(int fd, int64_t offset, int64_t length);

/// fdatasync, or fsync where fdatasync does not exist. Returns 0 or -1 with errno set.
int ss_fdatasync(int fd);

/// flock(2) (Swift sees only `struct flock` under that name). `exclusive_nonblocking` != 0 asks
/// for LOCK_EX | LOCK_NB, else LOCK_UN. Returns 0 or -1 with errno set.
int ss_flock(int fd, int exclusive_nonblocking);

/// 1 when the `needle_length` bytes at `needle` occur in the `haystack_length` bytes at
/// `haystack` (memmem), else 0. An empty needle occurs everywhere.
int ss_contains(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/// Gives the calling thread the lowest scheduling priority (nice 19), so background work yields
/// the CPU to the threads that append and read. On Linux only this thread is affected; elsewhere
/// it does nothing. Returns 0 or -1 with errno set.
int ss_lower_thread_priority(void);

#endif
