#include "output/nats_writer.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <nats/nats.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

namespace ward::output {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadBatch = 512;
constexpr auto kIdleWait = std::chrono::milliseconds(20);
constexpr const char* kMsgIdHeader = "Nats-Msg-Id";

std::string nats_error(std::string_view what, natsStatus status,
                       jsErrCode js_error = static_cast<jsErrCode>(0)) {
  std::string message = "NATS: " + std::string(what) + ": " + natsStatus_GetText(status);
  if (const char* detail = nats_GetLastError(nullptr); detail != nullptr && *detail != '\0') {
    message += " (" + std::string(detail) + ")";
  }
  if (js_error != 0) message += " [JetStream error " + std::to_string(static_cast<int>(js_error)) + "]";
  return message;
}

// A subject token holds no '.', '*', '>' or white space.
std::string subject_token(std::string_view raw) {
  if (raw.empty()) return "unknown";
  std::string token(raw);
  for (char& c : token) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return token;
}

std::string expand_subject(const std::string& pattern, const Record& r) {
  std::string subject;
  subject.reserve(pattern.size() + r.event_name.size());
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.compare(i, 12, "{event_name}") == 0) {
      subject += subject_token(r.event_name);
      i += 12;
    } else if (pattern.compare(i, 12, "{event_type}") == 0) {
      subject += std::to_string(r.event_type);
      i += 12;
    } else {
      subject += pattern[i++];
    }
  }
  return subject;
}

// "ward.events.{event_name}" → "ward.events.>": every subject the template makes.
std::string subjects_for_template(const std::string& pattern) {
  const size_t brace = pattern.find('{');
  if (brace == std::string::npos) return pattern;
  const size_t dot = pattern.rfind('.', brace);
  return (dot == std::string::npos ? std::string() : pattern.substr(0, dot + 1)) + ">";
}

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max), next_(min) {}
  std::chrono::milliseconds next() {
    const auto current = next_;
    next_ = std::min(max_, next_ * 2);
    return current;
  }
  void reset() { next_ = min_; }

 private:
  std::chrono::milliseconds min_, max_, next_;
};

}  // namespace

struct NatsWriter::Impl {
  struct InFlight {
    std::string id;
    SpoolPosition end;
    Clock::time_point sent;
    bool acked = false;     // done: stored, or rejected for good
    bool rejected = false;  // the server can never take it (too large): counted as an error
  };

  NatsWriterOptions options;
  std::unique_ptr<Spool> spool;
  uint64_t registry_key = 0;
  natsOptions* nats_options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;

  mutable std::mutex mu;
  std::condition_variable cv;
  // In send order; a record leaves the spool once it and all before it are acked.
  std::deque<InFlight> in_flight;
  // Unacknowledged entries by message id (FIFO: ids may repeat).
  std::unordered_map<std::string, std::deque<InFlight*>> by_id;
  bool connected = false;
  bool stream_ready = false;
  bool rewind_needed = false;
  bool stopping = false;
  uint64_t acknowledged = 0;
  uint64_t errors = 0;
  uint64_t rewinds = 0;
  uint64_t connections = 0;
  std::string last_error;
  std::atomic<bool> publisher_idle{false};
  std::thread publisher;

  Status connect();
  Status ensure_stream();
  void run();
  void publish(std::vector<SpooledRecord>& batch);
  bool settle();
  void rewind();
  void set_error(std::string message) {
    std::lock_guard lock(mu);
    last_error = std::move(message);
  }
  void sleep_unless_stopped(std::chrono::milliseconds duration) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, duration, [this] { return stopping; });
  }

  // libnats calls back on its own threads, possibly while or after the writer
  // is destroyed; callbacks find the writer by key under this lock, and the
  // destructor removes it first.
  static std::mutex registry_mu;
  static std::unordered_map<uint64_t, Impl*> registry;
  static uint64_t next_key;
  template <typename F>
  static void with_writer(void* closure, F&& f) {
    std::lock_guard lock(registry_mu);
    auto it = registry.find(reinterpret_cast<uintptr_t>(closure));
    if (it != registry.end()) f(*it->second);
  }

  static void on_connected(natsConnection*, void* closure) {
    with_writer(closure, [](Impl& w) {
      std::lock_guard lock(w.mu);
      w.connected = true;
      w.stream_ready = false;  // a restarted cluster may have lost it
      ++w.connections;
      w.cv.notify_all();
    });
  }
  static void on_disconnected(natsConnection*, void* closure) {
    with_writer(closure, [](Impl& w) {
      std::lock_guard lock(w.mu);
      w.connected = false;
      w.rewind_needed = !w.in_flight.empty();  // their acks may never come
      w.cv.notify_all();
    });
  }
  static int64_t reconnect_delay(natsConnection*, int attempts, void* closure) {
    int64_t delay = 100;
    with_writer(closure, [&](Impl& w) {
      const int64_t min = w.options.retry_min.count(), max = w.options.retry_max.count();
      delay = min;
      for (int i = 1; i < attempts && delay < max; ++i) delay *= 2;
      delay = std::min(delay, max);
    });
    // Jitter, so agents restarted together do not reconnect in lock step.
    thread_local std::minstd_rand jitter(std::random_device{}());
    return delay + static_cast<int64_t>(jitter() % static_cast<uint32_t>(delay / 5 + 1));
  }
  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    const char* id = nullptr;
    if (natsMsgHeader_Get(msg, kMsgIdHeader, &id) != NATS_OK) id = nullptr;
    with_writer(closure, [&](Impl& w) {
      std::lock_guard lock(w.mu);
      if (ack != nullptr && id != nullptr) {
        auto it = w.by_id.find(id);
        if (it != w.by_id.end()) {
          it->second.front()->acked = true;
          it->second.pop_front();
          if (it->second.empty()) w.by_id.erase(it);
        }
      } else if (error != nullptr) {
        w.last_error = nats_error("publish", error->Err, error->ErrCode) +
                       (error->ErrText != nullptr ? std::string(": ") + error->ErrText : "");
        auto it = id != nullptr ? w.by_id.find(id) : w.by_id.end();
        if (error->ErrCode == JSStreamMessageExceedsMaximumErr && it != w.by_id.end()) {
          // Sending it again would fail again and hold up everything behind it.
          it->second.front()->acked = true;
          it->second.front()->rejected = true;
          it->second.pop_front();
          if (it->second.empty()) w.by_id.erase(it);
        } else {
          w.rewind_needed = true;
        }
      }
      w.cv.notify_all();
    });
    natsMsg_Destroy(msg);
  }
};

std::mutex NatsWriter::Impl::registry_mu;
std::unordered_map<uint64_t, NatsWriter::Impl*> NatsWriter::Impl::registry;
uint64_t NatsWriter::Impl::next_key = 1;

Status NatsWriter::Impl::connect() {
  natsStatus s = natsOptions_Create(&nats_options);
  if (s != NATS_OK) return Status::error(nats_error("creating options", s));
  std::vector<const char*> urls;
  for (const auto& url : options.servers) urls.push_back(url.c_str());
  void* closure = reinterpret_cast<void*>(static_cast<uintptr_t>(registry_key));
  if (s == NATS_OK) s = natsOptions_SetServers(nats_options, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(nats_options, options.connection_name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(nats_options, -1);  // forever
  if (s == NATS_OK) s = natsOptions_SetCustomReconnectDelay(nats_options, reconnect_delay, closure);
  if (s == NATS_OK) s = natsOptions_SetTimeout(nats_options, 2000);
  if (s == NATS_OK)
    s = natsOptions_SetPingInterval(nats_options, 5000);  // a half-open link is noticed in ~10 s
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(nats_options, 2);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(nats_options, on_disconnected, closure);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(nats_options, on_connected, closure);
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(nats_options, true, on_connected, closure);
  if (s != NATS_OK) return Status::error(nats_error("setting options", s));

  s = natsConnection_Connect(&connection, nats_options);
  if (s == NATS_OK) {
    std::lock_guard lock(mu);
    connected = true;
    ++connections;
  } else if (s != NATS_NOT_YET_CONNECTED) {
    return Status::error(nats_error("connecting to " + options.servers.front(), s));
  }

  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.ack_timeout.count();
  // Our own bound is max_pending_acks; the library's is set above it so that
  // js_PublishAsync never stalls the publisher.
  js_options.PublishAsync.MaxPending = static_cast<int64_t>(options.max_pending_acks) + 64;
  js_options.PublishAsync.AckHandler = on_ack;
  js_options.PublishAsync.AckHandlerClosure = closure;
  s = natsConnection_JetStream(&js, connection, &js_options);
  if (s != NATS_OK) return Status::error(nats_error("JetStream context", s));
  return Status::ok();
}

Status NatsWriter::Impl::ensure_stream() {
  jsStreamInfo* info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js, options.stream.c_str(), nullptr, &js_error);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return Status::ok();
  }
  if (s != NATS_NOT_FOUND && js_error != JSStreamNotFoundErr) {
    return Status::error(nats_error("stream " + options.stream, s, js_error));
  }
  if (!options.create_stream) {
    return Status::error("NATS: stream " + options.stream + " does not exist (and create_stream is off)");
  }
  std::vector<const char*> subjects;
  for (const auto& subject : options.stream_subjects) subjects.push_back(subject.c_str());
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = options.stream.c_str();
  config.Subjects = subjects.data();
  config.SubjectsLen = static_cast<int>(subjects.size());
  config.Storage = js_FileStorage;
  config.Replicas = options.replicas;
  config.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(options.duplicate_window).count();
  js_error = static_cast<jsErrCode>(0);
  s = js_AddStream(&info, js, &config, nullptr, &js_error);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return Status::ok();
  }
  if (js_error == JSStreamNameExistErr) return Status::ok();  // another agent made it first
  return Status::error(nats_error("creating stream " + options.stream, s, js_error));
}

bool NatsWriter::Impl::settle() {
  SpoolPosition end;
  uint64_t count = 0;
  {
    std::lock_guard lock(mu);
    uint64_t rejected = 0;
    while (!in_flight.empty() && in_flight.front().acked) {
      end = in_flight.front().end;
      rejected += in_flight.front().rejected ? 1 : 0;
      in_flight.pop_front();
      ++count;
    }
    acknowledged += count - rejected;
    errors += rejected;
  }
  if (count == 0) return false;
  if (auto s = spool->acknowledge(end, count); !s) set_error(s.message());
  return true;
}

void NatsWriter::Impl::rewind() {
  settle();
  // Take back what the library still waits for, so its acks (if any) are
  // ignored; everything from the oldest unacknowledged record is sent again.
  natsMsgList pending{};
  if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK) natsMsgList_Destroy(&pending);
  {
    std::lock_guard lock(mu);
    in_flight.clear();
    by_id.clear();
    rewind_needed = false;
    ++rewinds;
  }
  spool->rewind();
}

void NatsWriter::Impl::publish(std::vector<SpooledRecord>& batch) {
  const auto now = Clock::now();
  std::vector<InFlight*> entries;
  entries.reserve(batch.size());
  {
    // Registered before sending: an ack may arrive before js_PublishAsync returns.
    std::lock_guard lock(mu);
    for (const auto& r : batch) {
      in_flight.push_back({r.record.id, r.end, now, false, false});
      by_id[r.record.id].push_back(&in_flight.back());
      entries.push_back(&in_flight.back());
    }
  }
  jsPubOptions publish_options;
  jsPubOptions_Init(&publish_options);
  publish_options.MaxWait = options.ack_timeout.count();
  for (size_t i = 0; i < batch.size(); ++i) {
    const Record& r = batch[i].record;
    const std::string subject = expand_subject(options.subject_template, r);
    publish_options.MsgId = r.id.c_str();
    const natsStatus s = js_PublishAsync(js, subject.c_str(), r.payload.data(),
                                         static_cast<int>(r.payload.size()), &publish_options);
    if (s == NATS_OK) continue;
    std::lock_guard lock(mu);
    last_error = nats_error("publishing " + r.id, s);
    if (s == NATS_MAX_PAYLOAD) {
      // Larger than the server takes, ever: count it and go on with the rest.
      entries[i]->acked = true;
      entries[i]->rejected = true;
      auto it = by_id.find(r.id);
      if (it != by_id.end()) {
        std::erase(it->second, entries[i]);
        if (it->second.empty()) by_id.erase(it);
      }
      continue;
    }
    rewind_needed = true;
    return;
  }
}

void NatsWriter::Impl::run() {
  Backoff backoff(options.retry_min, options.retry_max);
  std::vector<SpooledRecord> batch;
  for (;;) {
    bool need_rewind, need_stream;
    size_t room;
    {
      std::unique_lock lock(mu);
      if (stopping) return;
      if (!connected) {
        cv.wait_for(lock, std::chrono::milliseconds(250));
        continue;
      }
      need_rewind = rewind_needed;
      need_stream = !stream_ready;
      // Acks overdue even past the library's own timeout: treat them as lost.
      if (!in_flight.empty() && !in_flight.front().acked &&
          Clock::now() - in_flight.front().sent > 2 * options.ack_timeout) {
        need_rewind = true;
        last_error = "NATS: acknowledgements overdue";
      }
      room = options.max_pending_acks - std::min(options.max_pending_acks, in_flight.size());
    }
    if (need_rewind) {
      rewind();
      sleep_unless_stopped(backoff.next());
      continue;
    }
    if (need_stream) {
      if (auto s = ensure_stream(); !s) {
        set_error(s.message());
        sleep_unless_stopped(backoff.next());
        continue;
      }
      std::lock_guard lock(mu);
      stream_ready = true;
      continue;
    }
    if (settle()) backoff.reset();
    if (room > 0 && spool->has_unread()) {
      batch.clear();
      if (auto s = spool->read(std::min(room, kReadBatch), batch); !s) {
        set_error(s.message());
        sleep_unless_stopped(backoff.next());
        continue;
      }
      if (!batch.empty()) {
        publish(batch);
        continue;
      }
    }
    std::unique_lock lock(mu);
    publisher_idle = true;
    cv.wait_for(lock, kIdleWait, [this] {
      return stopping || rewind_needed || !connected || (!in_flight.empty() && in_flight.front().acked);
    });
    publisher_idle = false;
  }
}

NatsWriter::NatsWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<NatsWriter>> NatsWriter::create(NatsWriterOptions options) {
  if (options.servers.empty()) return Status::error("NATS: no server URL given");
  if (options.stream.empty()) return Status::error("NATS: no stream name given");
  if (options.subject_template.empty()) return Status::error("NATS: no subject given");
  if (options.max_pending_acks == 0) options.max_pending_acks = 1;
  if (options.replicas < 1) options.replicas = 1;
  if (options.stream_subjects.empty())
    options.stream_subjects = {subjects_for_template(options.subject_template)};

  auto spool = Spool::open(options.spool);
  if (!spool) return Status::error("NATS writer: " + spool.status().message());

  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->spool = std::move(spool.value());
  {
    std::lock_guard lock(Impl::registry_mu);
    impl->registry_key = Impl::next_key++;
    Impl::registry[impl->registry_key] = impl.get();
  }
  std::unique_ptr<NatsWriter> writer(new NatsWriter(std::move(impl)));
  if (auto s = writer->impl_->connect(); !s) return s;  // the destructor unregisters and cleans up
  Impl* raw = writer->impl_.get();
  raw->publisher = std::thread([raw] { raw->run(); });
  return writer;
}

NatsWriter::~NatsWriter() {
  Impl& w = *impl_;
  {
    std::lock_guard lock(w.mu);
    w.stopping = true;
    w.cv.notify_all();
  }
  if (w.publisher.joinable()) w.publisher.join();
  {
    // Give acks already on their way a moment, so fewer records are sent twice.
    std::unique_lock lock(w.mu);
    w.cv.wait_for(lock, std::chrono::milliseconds(500), [&w] {
      return !w.connected || w.in_flight.empty() ||
             std::all_of(w.in_flight.begin(), w.in_flight.end(),
                         [](const Impl::InFlight& f) { return f.acked; });
    });
  }
  w.settle();
  {
    std::lock_guard lock(Impl::registry_mu);
    Impl::registry.erase(w.registry_key);
  }
  if (w.connection != nullptr) natsConnection_Close(w.connection);
  if (w.js != nullptr) jsCtx_Destroy(w.js);
  if (w.connection != nullptr) natsConnection_Destroy(w.connection);
  if (w.nats_options != nullptr) natsOptions_Destroy(w.nats_options);
  w.spool.reset();  // writes its buffer and the ack position
}

Status NatsWriter::write(const Record& record) {
  Spool::AppendOutcome outcome;
  Status s = impl_->spool->append(record, &outcome);
  if (outcome == Spool::AppendOutcome::kFailed) {
    std::lock_guard lock(impl_->mu);
    ++impl_->errors;
    impl_->last_error = s.message();
  }
  if (outcome == Spool::AppendOutcome::kAppended && impl_->publisher_idle.load(std::memory_order_relaxed)) {
    std::lock_guard lock(impl_->mu);
    impl_->cv.notify_all();
  }
  return s;
}

Status NatsWriter::flush() { return impl_->spool->flush(); }

WriterCounters NatsWriter::counters() const {
  const SpoolStats spool = impl_->spool->stats();
  std::lock_guard lock(impl_->mu);
  WriterCounters c;
  c.written = impl_->acknowledged;
  c.errors = impl_->errors + spool.corrupt_records + spool.torn_tails;
  c.dropped = spool.dropped;
  return c;
}

NatsWriterStats NatsWriter::stats() const {
  NatsWriterStats s;
  s.counters = counters();
  s.spool = impl_->spool->stats();
  char url[256] = {0};
  if (impl_->connection != nullptr &&
      natsConnection_GetConnectedUrl(impl_->connection, url, sizeof url) == NATS_OK) {
    s.connected_url = url;
  }
  std::lock_guard lock(impl_->mu);
  s.connected = impl_->connected;
  s.stream_ready = impl_->stream_ready;
  s.in_flight = impl_->in_flight.size();
  s.rewinds = impl_->rewinds;
  s.connections = impl_->connections;
  s.last_error = impl_->last_error;
  return s;
}

Status NatsWriter::wait_until_delivered(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    bool idle;
    {
      std::lock_guard lock(impl_->mu);
      idle = impl_->in_flight.empty();
    }
    if (idle && impl_->spool->empty()) return Status::ok();
    if (Clock::now() >= deadline) {
      const NatsWriterStats s = stats();
      return Status::error("NATS: " + std::to_string(s.spool.records) + " records not yet acknowledged (" +
                           (s.connected ? "connected" : "not connected") +
                           (s.last_error.empty() ? "" : "; last error: " + s.last_error) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace ward::output
