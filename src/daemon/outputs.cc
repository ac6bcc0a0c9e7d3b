#include "daemon/outputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "daemon/event_records.h"
#include "output/file_writer.h"
#include "output/nats_writer.h"
#include "output/stdout_writer.h"
#include "output/syslog_writer.h"
#include "store/event_store.h"

namespace ward::daemon {
namespace {

std::size_t format_index(RecordFormat format) { return static_cast<std::size_t>(format); }

// Creates the missing directories above `path` (0750: events name users'
// files and commands).
Status make_parent_dirs(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
      return Status::error(dir + ": cannot create directory: " + std::strerror(errno));
  }
  return Status::ok();
}

Status make_dirs(const std::string& dir) {
  if (Status s = make_parent_dirs(dir + "/"); !s) return s;
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<OutputSet>> OutputSet::open(const DaemonConfig& config, output::HostInfo host) {
  std::unique_ptr<OutputSet> set(new OutputSet());
  set->run_id_ = host.run_id;
  set->host_ = host;
  set->serializers_[format_index(RecordFormat::Eslogger)] = output::make_eslogger_json_serializer();
  set->serializers_[format_index(RecordFormat::Ecs)] = output::make_ecs_serializer(host);
  set->serializers_[format_index(RecordFormat::Ocsf)] = output::make_ocsf_serializer(host);

  std::array<bool, kEventTypes.size()> any{};
  for (const Output& out : config.outputs) {
    auto sink = std::make_unique<Sink>();
    sink->type = std::string(output_type_name(out));
    sink->format = output_format(out);
    const std::vector<EventType>& events = out.events.empty() ? config.events : out.events;
    for (EventType t : events) {
      sink->takes[event_index(t)] = true;
      any[event_index(t)] = true;
    }
    const std::string where = "outputs: " + sink->type + ": ";
    if (std::holds_alternative<StdoutOutput>(out.sink)) {
      sink->target = "stdout";
      sink->writer = std::make_unique<output::StdoutWriter>();
      sink->flush_on_drain = true;
    } else if (const auto* file = std::get_if<FileOutput>(&out.sink)) {
      sink->target = file->path;
      if (Status s = make_parent_dirs(file->path); !s) return Status::error(where + s.message());
      output::FileWriterOptions options;
      options.path = file->path;
      options.max_file_bytes = file->max_bytes;
      options.keep_files = file->keep;
      auto writer = output::RotatingFileWriter::open(options);
      if (!writer) return Status::error(where + writer.status().message());
      sink->writer = std::move(writer.value());
    } else if (const auto* syslog = std::get_if<SyslogOutput>(&out.sink)) {
      sink->target = syslog->socket;
      output::SyslogWriterOptions options;
      options.socket_path = syslog->socket;
      options.format = syslog->rfc3164 ? output::SyslogFormat::Rfc3164 : output::SyslogFormat::Rfc5424;
      sink->writer = std::make_unique<output::SyslogWriter>(options);
    } else if (const auto* store_config = std::get_if<StoreOutput>(&out.sink)) {
      sink->target = store_config->path;
      if (Status s = make_parent_dirs(store_config->path); !s) return Status::error(where + s.message());
      store::StoreOptions options;
      options.path = store_config->path;
      options.max_age = std::chrono::seconds(static_cast<int64_t>(store_config->retention_days) * 86400);
      options.max_bytes = store_config->max_bytes;
      auto store = store::EventStore::open(options);
      if (!store) return Status::error(where + store.status().message());
      sink->store = store.value().get();
      sink->writer = std::move(store.value());
    } else if (const auto* nats = std::get_if<NatsOutput>(&out.sink)) {
      for (const auto& server : nats->servers) sink->target += (sink->target.empty() ? "" : ",") + server;
      if (Status s = make_dirs(nats->spool_dir); !s) return Status::error(where + s.message());
      output::NatsWriterOptions options;
      options.servers = nats->servers;
      options.stream = nats->stream;
      options.subject_template = nats->subject;
      options.spool.directory = nats->spool_dir;
      options.spool.max_bytes = nats->spool_max_bytes;
      options.spool.full_policy = nats->spool_full;
      auto writer = output::NatsWriter::create(options);
      if (!writer) return Status::error(where + writer.status().message());
      sink->nats = writer.value().get();
      sink->writer = std::move(writer.value());
    }
    set->sinks_.push_back(std::move(sink));
  }
  for (const auto& info : kEventTypes)
    if (any[event_index(info.type)]) set->wanted_.push_back(info.type);
  return set;
}

OutputSet::~OutputSet() { flush_all(); }

void OutputSet::report_error(Sink& sink, const Status& status) {
  const auto now = std::chrono::steady_clock::now();
  if (sink.reported && now - sink.last_error_report < std::chrono::minutes(1)) return;
  sink.reported = true;
  sink.last_error_report = now;
  std::fprintf(stderr, "wardd: output %s (%s): %s (counted; further errors reported at most once a minute)\n",
               sink.type.c_str(), sink.target.c_str(), status.message().c_str());
}

void OutputSet::write(const Message& message) {
  const std::size_t type = event_index(message.event_type);
  if (type >= kEventTypes.size()) return;
  have_payload_.fill(false);
  std::optional<output::Record> record;
  for (auto& sink : sinks_) {
    if (!sink->takes[type]) continue;
    const std::size_t f = format_index(sink->format);
    if (!have_payload_[f]) {
      payload_[f].clear();
      if (sink->format == RecordFormat::Summary)
        payload_[f] = summary_line(message);
      else
        serializers_[f]->serialize(message, payload_[f]);
      have_payload_[f] = true;
    }
    if (!record) record = record_header(message, run_id_);
    // The payload moves in and back out, so one record serves every sink
    // without a copy per sink.
    record->payload.swap(payload_[f]);
    Status s = sink->writer->write(*record);
    record->payload.swap(payload_[f]);
    if (!s) report_error(*sink, s);
  }
}

void OutputSet::write_drop(const DropReport& drop) {
  output::Record record;
  record.event_type = kDropRecordType;
  record.event_name = std::string(kDropRecordName);
  record.time_ns = output::wall_clock_now_ns();
  for (auto& sink : sinks_) {
    record.payload.clear();
    if (sink->format == RecordFormat::Summary)
      record.payload = summary_line(drop);
    else
      serializers_[format_index(sink->format)]->serialize_drop(drop, record.payload);
    record.id = run_id_ + "-drop-" + std::to_string(record.time_ns);
    if (Status s = sink->writer->write(record); !s) report_error(*sink, s);
  }
}

void OutputSet::drained() {
  for (auto& sink : sinks_)
    if (sink->flush_on_drain) (void)sink->writer->flush();
}

void OutputSet::flush_all() {
  for (auto& sink : sinks_) {
    if (Status s = sink->writer->flush(); !s) report_error(*sink, s);
  }
}

std::vector<SinkStatus> OutputSet::status() const {
  std::vector<SinkStatus> out;
  for (const auto& sink : sinks_) {
    SinkStatus s;
    s.type = sink->type;
    s.target = sink->target;
    s.format = std::string(to_string(sink->format));
    s.counters = sink->writer->counters();
    if (sink->nats) {
      const output::NatsWriterStats stats = sink->nats->stats();
      s.spool_bytes = stats.spool.bytes;
      s.spool_records = stats.spool.records;
      s.connected = stats.connected;
      s.last_error = stats.last_error;
    }
    if (sink->store) {
      const store::StoreStats stats = sink->store->stats();
      s.store_bytes = stats.database_bytes;
      s.last_error = stats.last_error;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ward::daemon
