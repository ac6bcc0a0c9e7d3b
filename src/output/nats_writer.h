// A Writer that publishes every record to NATS JetStream.
//
// Every record is appended to the on-disk spool first (output/spool.h) and a
// publisher thread sends the spool, in order, with js_PublishAsync: at most
// max_pending_acks publishes are awaiting their acknowledgement at a time,
// and a record leaves the spool only once JetStream has acknowledged it. Each
// message carries Nats-Msg-Id = Record::id, so what is sent again after a
// failure (a lost connection, a timed-out ack, a restart of the agent) is
// de-duplicated by the server within the stream's duplicate window.
//
// Why asynchronous publishing: a synchronous publish waits one round trip
// (and, on a replicated stream, the replication) per message, a few thousand
// messages per second; pipelining up to max_pending_acks keeps the link full
// while still bounding what is in doubt after a failure.
//
// While the server is unreachable (also at start: that is not fatal) records
// accumulate in the spool, bounded by its size and full policy; the client
// reconnects with exponential backoff and the spool is replayed in order.
// write() never waits for the network; it fails only when the spool refuses
// the record (block_notify) or cannot write it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "output/spool.h"
#include "output/writer.h"
#include "ward/status.h"

namespace ward::output {

struct NatsWriterOptions {
  std::vector<std::string> servers = {"nats://127.0.0.1:4222"};
  std::string stream = "WARD_EVENTS";
  // "{event_name}" and "{event_type}" are replaced per record (characters a
  // subject token cannot hold become '_').
  std::string subject_template = "ward.events.{event_name}";
  // The stream's subjects when it is created; empty: the template's fixed
  // prefix followed by ">" ("ward.events.>").
  std::vector<std::string> stream_subjects;
  bool create_stream = true;
  int replicas = 1;
  // How long the server remembers message ids; must cover the longest outage
  // after which in-doubt records are sent again.
  std::chrono::milliseconds duplicate_window{std::chrono::minutes(2)};
  size_t max_pending_acks = 1024;
  std::chrono::milliseconds ack_timeout{5000};
  std::chrono::milliseconds retry_min{100};  // reconnect and re-send backoff
  std::chrono::milliseconds retry_max{5000};
  std::string connection_name = "ward";
  SpoolOptions spool;
};

struct NatsWriterStats {
  WriterCounters counters;
  bool connected = false;
  std::string connected_url;  // the server the connection is on, when connected
  bool stream_ready = false;
  uint64_t in_flight = 0;    // published, awaiting acknowledgement
  uint64_t rewinds = 0;      // times in-doubt records were sent again
  uint64_t connections = 0;  // successful connects and reconnects
  SpoolStats spool;
  std::string last_error;
};

class NatsWriter : public Writer {
 public:
  // Fails only on bad options or an unusable spool directory; an unreachable
  // server is retried in the background.
  static Result<std::unique_ptr<NatsWriter>> create(NatsWriterOptions options);
  ~NatsWriter() override;  // what is not acknowledged stays in the spool for the next run
  NatsWriter(const NatsWriter&) = delete;
  NatsWriter& operator=(const NatsWriter&) = delete;

  std::string_view name() const override { return "nats"; }
  Status write(const Record& record) override;
  // Writes the spool buffer out (and fsyncs it, per the spool options): after
  // it returns OK every accepted record survives a crash of the agent.
  Status flush() override;
  // written = acknowledged by JetStream; dropped = spool drops and refusals;
  // errors = failed appends, corrupt spool records, and records the server
  // can never take (larger than its max_payload), which are skipped.
  WriterCounters counters() const override;

  NatsWriterStats stats() const;
  // Waits until every record accepted so far has been acknowledged.
  Status wait_until_delivered(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  explicit NatsWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ward::output
