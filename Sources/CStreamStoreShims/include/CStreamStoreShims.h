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

/// flock(2) taking a lock: LOCK_EX when `exclusive` != 0, else LOCK_SH; blocking when `wait` != 0,
/// else LOCK_NB. An interrupted wait is retried. Returns 0 or -1 with errno set (EWOULDBLOCK when
/// `wait` is 0 and another open file description holds a conflicting lock).
int ss_flock_lock(int fd, int exclusive, int wait);

/// 1 when the `needle_length` bytes at `needle` occur in the `haystack_length` bytes at
/// `haystack` (memmem), else 0. An empty needle occurs everywhere.
int ss_contains(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/// Gives the calling thread the lowest scheduling priority (nice 19), so background work yields
/// the CPU to the threads that append and read. On Linux only this thread is affected; elsewhere
/// it does nothing. Returns 0 or -1 with errno set.
int ss_lower_thread_priority(void);

/// Atomic access to words in memory shared with other processes (a MAP_SHARED mapping): loads
/// acquire, stores and increments release. `address` must be aligned to the word's size.
uint64_t ss_shared_load_u64(const void *address);
void ss_shared_store_u64(void *address, uint64_t value);
uint32_t ss_shared_load_u32(const void *address);
/// Adds 1 and returns the new value.
uint32_t ss_shared_increment_u32(void *address);

/// A seqlock-protected slot of `count` + 1 eight-byte words: word 0 is the sequence, odd while a
/// write is under way. One writer at a time (the caller serialises writes).
void ss_slot_write(void *slot, const uint64_t *values, int count);
/// Copies the slot's values into `values`; returns 1 when the copy is consistent (no write was
/// under way or happened meanwhile), else 0 (try again, or use another slot).
int ss_slot_read(const void *slot, uint64_t *values, int count);

/// FUTEX_WAIT on a word shared between processes: sleeps while the word equals `expected`, up to
/// `timeout_nanoseconds` (negative: no limit). Returns 0 when woken, else -1 with errno
/// (EAGAIN: the word had already changed; ETIMEDOUT; EINTR).
int ss_futex_wait(const void *address, uint32_t expected, int64_t timeout_nanoseconds);
/// FUTEX_WAKE of every waiter on the word, in any process. Returns how many were woken, or -1.
int ss_futex_wake_all(void *address);

/// flock(LOCK_SH | LOCK_NB). Returns 0 or -1 with errno set (EWOULDBLOCK when held exclusively).
int ss_flock_shared_nonblocking(int fd);

#endif
