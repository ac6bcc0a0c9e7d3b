// Decodes ring-buffer records (bpf/ward_wire.h) into RawEvents. Pure: no
// kernel access, so the wire format is unit tested without root.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "sensors/raw_event.h"

struct ward_proc;
struct ward_file;

namespace ward::sensors::bpf {

// nullopt: malformed (short, unknown type or version, pieces out of bounds).
std::optional<RawEvent> decode_record(std::span<const uint8_t> record);

// "echo\0bin\0usr\0" (leaf first) -> "/usr/bin/echo". An empty block is "/".
std::string join_leaf_first_path(std::span<const char> block);

// Splits a NUL-separated block; a final unterminated piece is kept (it is a
// truncated argument) and reported through `last_unterminated`.
std::vector<std::string> split_nul_block(std::span<const char> block, bool* last_unterminated = nullptr);

// Kernel-internal dev_t (MAJOR << 20 | MINOR) to the stat(2) encoding.
uint64_t kernel_dev_to_user(uint32_t kdev);

// The wire's process and file identity, decoded (shared with the activity
// decoder).
RawProc decode_wire_proc(const ward_proc& proc);
FileStat decode_wire_file(const ward_file& file);

}  // namespace ward::sensors::bpf
