#pragma once
/// \file
/// A growable array of trivially copyable elements whose memory comes straight from the operating
/// system (anonymous `mmap` on POSIX) and goes straight back to it (`munmap`) when the buffer is
/// resized or destroyed. Unlike `std::vector` through `malloc`, releasing memory here really lowers
/// the process's resident set, which is the point of pruning an embedding table. On Linux a resize
/// remaps the pages (`mremap`) instead of copying them, so a buffer can grow in small steps.

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#if __has_include(<sys/mman.h>) && __has_include(<unistd.h>)
#include <sys/mman.h>
#include <unistd.h>
#define FRUGAL_EMBEDDING_HAS_MMAP 1
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
#define FRUGAL_EMBEDDING_HAS_MREMAP 1
#endif
#endif

namespace frugal::embedding::detail {

/// Bytes one allocation of `bytes` really takes: rounded up to whole pages where pages are used.
[[nodiscard]] inline std::size_t allocation_bytes(std::size_t bytes) noexcept {
  if (bytes == 0) return 0;
#ifdef FRUGAL_EMBEDDING_HAS_MMAP
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
#else
  return bytes;
#endif
}

/// Whether `page_buffer::resize` moves pages rather than copying elements: then growing by a small
/// step costs no more than growing by a large one.
inline constexpr bool page_buffer_remaps =
#ifdef FRUGAL_EMBEDDING_HAS_MREMAP
    true;
#else
    false;
#endif

/// Owning, zero-initialised, page-backed array. Copying copies the elements into a new mapping.
template <class T>
class page_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "page_buffer holds trivially copyable elements only");

 public:
  page_buffer() = default;
  explicit page_buffer(std::size_t n) : m_data(allocate(n)), m_size(n) {}
  page_buffer(const page_buffer& other) : page_buffer(other.m_size) {
    if (m_size) std::memcpy(static_cast<void*>(m_data), other.m_data, m_size * sizeof(T));
  }
  page_buffer(page_buffer&& other) noexcept
      : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}
  page_buffer& operator=(page_buffer other) noexcept {
    swap(other);
    return *this;
  }
  ~page_buffer() { release(m_data, m_size); }

  void swap(page_buffer& other) noexcept {
    std::swap(m_data, other.m_data);
    std::swap(m_size, other.m_size);
  }

  /// New size; keeps the first min(old, new) elements, new ones are zero. A smaller size really
  /// returns memory; a no-op when the size is unchanged. With `page_buffer_remaps` the pages are
  /// remapped (no element is copied), else the elements are copied into a new mapping.
  void resize(std::size_t n) {
    if (n == m_size) return;
#ifdef FRUGAL_EMBEDDING_HAS_MREMAP
    if (m_data != nullptr && n > 0) {
      if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
      const std::size_t old_bytes = allocation_bytes(m_size * sizeof(T)), new_bytes = allocation_bytes(n * sizeof(T));
      void* p = old_bytes == new_bytes ? static_cast<void*>(m_data)
                                       : ::mremap(static_cast<void*>(m_data), old_bytes, new_bytes, MREMAP_MAYMOVE);
      if (p == MAP_FAILED) throw std::bad_alloc();
      // Pages past the old mapping arrive zeroed; the old last page may hold elements of an earlier,
      // larger size beyond m_size.
      if (n > m_size)
        std::memset(static_cast<char*>(p) + m_size * sizeof(T), 0,
                    (n * sizeof(T) < old_bytes ? n * sizeof(T) : old_bytes) - m_size * sizeof(T));
#ifdef MADV_HUGEPAGE
      if (n * sizeof(T) >= huge_page_threshold && m_size * sizeof(T) < huge_page_threshold)
        ::madvise(p, new_bytes, MADV_HUGEPAGE);
#endif
      m_data = static_cast<T*>(p);
      m_size = n;
      return;
    }
#endif
    page_buffer next(n);
    const std::size_t keep = n < m_size ? n : m_size;
    if (keep) std::memcpy(static_cast<void*>(next.m_data), m_data, keep * sizeof(T));
    swap(next);
  }

  /// Releases everything.
  void clear() noexcept { page_buffer().swap(*this); }

  [[nodiscard]] std::size_t size() const noexcept { return m_size; }
  [[nodiscard]] T* data() noexcept { return m_data; }
  [[nodiscard]] const T* data() const noexcept { return m_data; }
  T& operator[](std::size_t i) noexcept { return m_data[i]; }
  const T& operator[](std::size_t i) const noexcept { return m_data[i]; }

  /// Bytes held from the operating system (page-rounded).
  [[nodiscard]] std::size_t bytes() const noexcept { return allocation_bytes(m_size * sizeof(T)); }

 private:
  static constexpr std::size_t huge_page_threshold = std::size_t{4} << 20;  ///< bytes

  static T* allocate(std::size_t n) {
    if (n == 0) return nullptr;
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
#ifdef FRUGAL_EMBEDDING_HAS_MMAP
    void* p =
        ::mmap(nullptr, allocation_bytes(n * sizeof(T)), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    // Tables are read at random: ask for transparent huge pages (where the system offers them on
    // request), so a lookup rarely misses the TLB. Advice only; failure changes nothing.
    if (n * sizeof(T) >= huge_page_threshold) ::madvise(p, allocation_bytes(n * sizeof(T)), MADV_HUGEPAGE);
#endif
    return static_cast<T*>(p);
#else
    void* p = ::operator new (n * sizeof(T), std::align_val_t{64});
    std::memset(p, 0, n * sizeof(T));
    return static_cast<T*>(p);
#endif
  }
  static void release(T* p, std::size_t n) noexcept {
    if (!p) return;
#ifdef FRUGAL_EMBEDDING_HAS_MMAP
    ::munmap(static_cast<void*>(p), allocation_bytes(n * sizeof(T)));
#else
    (void)n;
    ::operator delete (static_cast<void*>(p), std::align_val_t{64});
#endif
  }

  T* m_data = nullptr;
  std::size_t m_size = 0;
};

}  // namespace frugal::embedding::detail
