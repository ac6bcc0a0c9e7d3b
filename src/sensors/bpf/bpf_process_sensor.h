// The eBPF process sensor: exec, fork and exit from scheduler tracepoints
// (bpf/process.bpf.c), decoded by record_decoder.
#pragma once

#include <memory>

#include "sensors/sensor.h"

namespace ward::sensors::bpf {

struct BpfProcessOptions {
  // Wake the reader when this much data waits; below it the reader polls on
  // its own timer. 0 = wake per record.
  uint32_t wakeup_bytes = 64 * 1024;
};

std::unique_ptr<Sensor> make_bpf_process_sensor(BpfProcessOptions options = {});

// The last warnings libbpf printed, for "what the kernel refused" reports.
std::string last_libbpf_error();

}  // namespace ward::sensors::bpf
