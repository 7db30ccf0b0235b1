#include "probe/video_probe.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <memory>
#include <mutex>

namespace vb {

namespace {

constexpr int k_io_buffer_bytes = 32 * 1024;  // an MP4's ftyp and moov fit in the first read

// libavformat explains a failure in its log, not in its return code ("moov atom not found" vs
// "Invalid data found when processing input"). Its log callback is process-wide, so each
// probing thread points this at its own string while it calls into libavformat.
thread_local std::string* t_first_error = nullptr;

void capture_log(void* object, int level, const char* format, va_list args) {
  if (level > AV_LOG_ERROR || t_first_error == nullptr || !t_first_error->empty()) {
    return;
  }
  char line[512];
  int print_prefix = 0;  // no "[mov,mp4,... @ 0x55...]"
  av_log_format_line2(object, level, format, args, line, sizeof(line), &print_prefix);
  std::string text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '.')) {
    text.pop_back();
  }
  *t_first_error = text;
}

void quiet_libav_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_QUIET);
    av_log_set_callback(capture_log);
  });
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  ~FileDescriptor() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return m_fd; }

 private:
  int m_fd;
};

// libavformat reads the file through these, from the descriptor probe_video opened: no URL, so
// no protocol (http:, pipe:, concat:...) can be named by a file's path.
int read_fd(void* opaque, uint8_t* buffer, int size) {
  const ssize_t got = ::read(*static_cast<int*>(opaque), buffer, static_cast<size_t>(size));
  if (got < 0) {
    return AVERROR(errno);
  }
  return got == 0 ? AVERROR_EOF : static_cast<int>(got);
}

int64_t seek_fd(void* opaque, int64_t offset, int whence) {
  const int fd = *static_cast<int*>(opaque);
  if (whence == AVSEEK_SIZE) {
    struct stat info {};
    return ::fstat(fd, &info) == 0 ? info.st_size : AVERROR(errno);
  }
  const off_t at = ::lseek(fd, offset, whence & ~AVSEEK_FORCE);
  return at < 0 ? AVERROR(errno) : at;
}

struct IoCloser {
  void operator()(AVIOContext* io) const {
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
using IoContext = std::unique_ptr<AVIOContext, IoCloser>;

struct FormatCloser {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
using FormatContext = std::unique_ptr<AVFormatContext, FormatCloser>;

std::string av_error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof(text));
  return text;
}

// AVERROR(errno) values are small negative numbers; FFmpeg's own codes are FourCC tags.
bool is_system_error(int code) {
  return code < 0 && -code < 4096;
}

std::uint32_t read_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Where the last top-level ISO-BMFF box ends, as the box headers declare (size 0: to the end of
// the file), reading one header per box (ftyp, moov, mdat, ...). Stops at the first box that
// ends past `file_bytes`, or at bytes that are no box header (libavformat judges those).
std::int64_t boxes_end(int fd, std::int64_t file_bytes) {
  constexpr int k_max_boxes = 1000;
  std::int64_t pos = 0;
  for (int n = 0; n < k_max_boxes && pos + 8 <= file_bytes; ++n) {
    unsigned char header[16];
    if (::pread(fd, header, sizeof(header), pos) < 8) {
      break;
    }
    std::int64_t size = read_u32(header);
    if (size == 1) {
      size = static_cast<std::int64_t>((std::uint64_t{read_u32(header + 8)} << 32) |
                                       read_u32(header + 12));
    } else if (size == 0) {
      size = file_bytes - pos;
    }
    if (size < 8) {
      break;
    }
    pos += size;
  }
  return pos;
}

bool starts_with_ftyp(int fd) {
  char head[8];
  return ::pread(fd, head, sizeof(head), 0) == 8 && std::memcmp(head + 4, "ftyp", 4) == 0;
}

std::int64_t samples_end(const AVFormatContext& ctx) {
  std::int64_t end = 0;
  for (unsigned i = 0; i < ctx.nb_streams; ++i) {
    AVStream* st = ctx.streams[i];
    const int count = avformat_index_get_entries_count(st);
    for (int e = 0; e < count; ++e) {
      const AVIndexEntry* entry = avformat_index_get_entry(st, e);
      end = std::max(end, entry->pos + entry->size);
    }
  }
  return end;
}

std::int64_t to_ms(std::int64_t value, AVRational time_base) {
  return av_rescale_q(value, time_base, AVRational{1, 1000});
}

double to_fps(AVRational rate) {
  return rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
}

// The first video stream that is a moving picture (not an attached cover image), or null.
const AVStream* video_stream(const AVFormatContext& ctx) {
  for (unsigned i = 0; i < ctx.nb_streams; ++i) {
    const AVStream* st = ctx.streams[i];
    if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
        (st->disposition & AV_DISPOSITION_ATTACHED_PIC) == 0) {
      return st;
    }
  }
  return nullptr;
}

const AVStream* audio_stream(const AVFormatContext& ctx) {
  for (unsigned i = 0; i < ctx.nb_streams; ++i) {
    if (ctx.streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
      return ctx.streams[i];
    }
  }
  return nullptr;
}

VideoProbe describe(const AVFormatContext& ctx) {
  VideoProbe probe;
  probe.container = ctx.iformat->name;
  if (ctx.duration != AV_NOPTS_VALUE && ctx.duration > 0) {
    probe.duration_ms = ctx.duration / (AV_TIME_BASE / 1000);
  }
  if (const AVStream* st = video_stream(ctx)) {
    probe.has_video = true;
    probe.video_codec = avcodec_get_name(st->codecpar->codec_id);
    probe.width = st->codecpar->width;
    probe.height = st->codecpar->height;
    probe.frame_rate = to_fps(st->avg_frame_rate);
    if (probe.frame_rate == 0.0) {
      probe.frame_rate = to_fps(st->r_frame_rate);
    }
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
      probe.duration_ms = to_ms(st->duration, st->time_base);
    }
  }
  if (const AVStream* st = audio_stream(ctx)) {
    probe.has_audio = true;
    probe.audio_codec = avcodec_get_name(st->codecpar->codec_id);
  }
  probe.declared_bytes = samples_end(ctx);
  return probe;
}

// A container opened on a descriptor: the format context first to go, then its I/O context
// (libavformat leaves a caller's I/O context to the caller).
struct Container {
  IoContext io;
  FormatContext format;
};

// Opens the container on `fd` and reads its headers. On failure `format` is null, `code` says
// why and `error` holds libavformat's explanation, if it logged one.
Container open_container(int& fd, bool iso_bmff, std::string& error, int& code) {
  Container container;
  auto* buffer = static_cast<unsigned char*>(av_malloc(k_io_buffer_bytes));
  if (buffer != nullptr) {
    container.io.reset(
        avio_alloc_context(buffer, k_io_buffer_bytes, 0, &fd, read_fd, nullptr, seek_fd));
  }
  AVFormatContext* raw = container.io ? avformat_alloc_context() : nullptr;
  if (raw == nullptr) {
    if (!container.io) {
      av_free(buffer);
    }
    code = AVERROR(ENOMEM);
    return container;
  }
  raw->pb = container.io.get();
  // An ftyp box settles the format: skip scoring the bytes against every demuxer (half the
  // cost of a probe). libavformat frees `raw` itself when opening fails.
  const AVInputFormat* format = iso_bmff ? av_find_input_format("mp4") : nullptr;
  t_first_error = &error;
  code = avformat_open_input(&raw, nullptr, format, nullptr);
  t_first_error = nullptr;
  if (code >= 0) {
    container.format.reset(raw);
  }
  return container;
}

}  // namespace

Result<VideoProbe> probe_video(const std::string& path) {
  // O_NONBLOCK: a FIFO named like a video must not hang the probe (regular files ignore it).
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat info {};
  if (file.get() < 0 || ::fstat(file.get(), &info) != 0) {
    const int err = errno;
    return fail(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                std::string("cannot probe the video: ") + std::strerror(err), path);
  }
  if (!S_ISREG(info.st_mode)) {
    return fail(ErrorCode::io, "cannot probe the video: not a regular file", path);
  }
  if (info.st_size == 0) {
    return fail(ErrorCode::protocol, "not a video: the file is empty", path);
  }
  quiet_libav_once();
  int fd = file.get();
  const bool iso_bmff = starts_with_ftyp(fd);
  std::string log_error;
  int code = 0;
  const Container container = open_container(fd, iso_bmff, log_error, code);
  const FormatContext& ctx = container.format;
  if (!ctx) {
    const std::string reason = log_error.empty() ? av_error_text(code) : log_error;
    if (is_system_error(code)) {
      return fail(ErrorCode::io, "cannot read the video: " + reason, path);
    }
    return fail(ErrorCode::protocol, "not a video: FFmpeg cannot read it (" + reason + ")", path);
  }
  if (ctx->nb_streams == 0) {
    // A header cut short before its first track still opens, with nothing in it.
    return fail(ErrorCode::protocol, "not a video: its headers describe no audio or video track",
                path);
  }
  VideoProbe probe = describe(*ctx);
  probe.file_bytes = info.st_size;
  if (iso_bmff) {
    probe.declared_bytes = std::max(probe.declared_bytes, boxes_end(fd, info.st_size));
  }
  return probe;
}

}  // namespace vb
