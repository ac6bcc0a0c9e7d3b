// wardd's outputs: the configured sinks, each a serializer format plus a
// writer from src/output/ (or the event store), and which events it takes.
// write() runs on the observer client's thread; status() and flush_all() may
// run on any other (the writers lock for themselves).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "output/serializer.h"
#include "output/writer.h"
#include "ward/client.h"

namespace ward::output {
class NatsWriter;
}
namespace ward::store {
class EventStore;
}

namespace ward::daemon {

struct SinkStatus {
  std::string type;    // "stdout", "file", "syslog", "store", "nats"
  std::string target;  // the path, socket or servers
  std::string format;
  output::WriterCounters counters;
  std::optional<uint64_t> spool_bytes, spool_records;  // nats
  std::optional<bool> connected;                       // nats
  std::optional<uint64_t> store_bytes;                 // store
  std::string last_error;
};

class OutputSet {
 public:
  // Opens every output of `config` (files created, the store opened, the
  // NATS spool claimed); the first failure is the error and nothing stays
  // open. An unreachable NATS server is not a failure (the spool holds).
  static Result<std::unique_ptr<OutputSet>> open(const DaemonConfig& config, output::HostInfo host);
  ~OutputSet();  // flushes and closes every writer

  // What the outputs want, together.
  const std::vector<EventType>& wanted() const { return wanted_; }

  void write(const Message& message);
  void write_drop(const DropReport& drop);
  // After each batch: the terminal sees its lines at once.
  void drained();
  // Makes what was accepted durable (files, spool, store): periodically and
  // at shutdown.
  void flush_all();

  std::vector<SinkStatus> status() const;
  const std::string& run_id() const { return run_id_; }

  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

 private:
  struct Sink {
    std::string type, target;
    RecordFormat format = RecordFormat::Eslogger;
    std::array<bool, kEventTypes.size()> takes{};
    std::unique_ptr<output::Writer> writer;
    output::NatsWriter* nats = nullptr;
    store::EventStore* store = nullptr;
    bool flush_on_drain = false;
    // Errors are counted by the writer; stderr gets the first and then at
    // most one a minute, so a dead sink cannot flood the journal.
    std::chrono::steady_clock::time_point last_error_report{};
    bool reported = false;
  };
  OutputSet() = default;
  void report_error(Sink& sink, const Status& status);

  output::HostInfo host_;
  std::string run_id_;
  std::array<std::unique_ptr<output::Serializer>, 4> serializers_;  // by RecordFormat (Summary: none)
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::vector<EventType> wanted_;
  // Scratch for write(), on the observer's thread only: one payload per format.
  std::array<std::string, 4> payload_;
  std::array<bool, 4> have_payload_{};
};

}  // namespace ward::daemon
