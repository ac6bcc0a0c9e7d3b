// Writes any struct that lists its fields() as a JSON object, generically.
// The ECS and OCSF serializers use it for payloads that have no hand-written
// mapping yet, so a payload added to ward::Event serializes (under a `ward` /
// `unmapped` key) before anyone maps it: the build never breaks, and the golden
// tests point at the new type.
#pragma once

#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "output/json_writer.h"
#include "ward/fields.h"
#include "ward/process.h"

namespace ward::output::field_json {

template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};
template <typename T>
struct is_shared_ptr : std::false_type {};
template <typename T>
struct is_shared_ptr<std::shared_ptr<T>> : std::true_type {};

// An absent optional or pointer: its key is left out rather than written as
// null, because ECS and OCSF documents omit what is unknown.
template <typename T>
bool is_absent(const T& v) {
  if constexpr (is_optional<T>::value || is_shared_ptr<T>::value)
    return !v;
  else
    return false;
}

// RFC 3339 for a file or clock time, before 1970 too (utimes can set those).
inline std::string format_timespec(const Timespec& t) {
  if (t.sec >= 0) return format_rfc3339_ns(static_cast<uint64_t>(t.sec) * 1'000'000'000 + t.nsec);
  time_t secs = static_cast<time_t>(t.sec);
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[64];
  std::size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &utc);
  char frac[16];
  snprintf(frac, sizeof(frac), ".%09uZ", static_cast<unsigned>(t.nsec % 1'000'000'000));
  return std::string(buf, n) + frac;
}

template <typename T>
void write_value(JsonWriter& w, const T& v);

template <Described T>
void write_object(JsonWriter& w, const T& obj) {
  w.begin_object();
  for_each_field(obj, [&](std::string_view name, const auto& member) {
    if (is_absent(member)) return;
    w.key(name);
    write_value(w, member);
  });
  w.end_object();
}

template <typename T>
void write_value(JsonWriter& w, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    w.value(v);
  } else if constexpr (std::is_enum_v<T>) {
    w.value(static_cast<int64_t>(v));
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    w.value(static_cast<int64_t>(v));
  } else if constexpr (std::is_integral_v<T>) {
    w.value(static_cast<uint64_t>(v));
  } else if constexpr (std::is_same_v<T, std::string>) {
    w.value(std::string_view(v));
  } else if constexpr (std::is_same_v<T, WallTime>) {
    w.value(format_rfc3339_ns(v.ns));
  } else if constexpr (std::is_same_v<T, Timespec>) {
    w.value(format_timespec(v));
  } else if constexpr (is_optional<T>::value || is_shared_ptr<T>::value) {
    if (v)
      write_value(w, *v);
    else
      w.null();
  } else if constexpr (is_vector<T>::value) {
    w.begin_array();
    for (const auto& e : v) write_value(w, e);
    w.end_array();
  } else if constexpr (Described<T>) {
    write_object(w, v);
  } else {
    static_assert(sizeof(T) == 0, "no JSON form for this field type: add one to field_json.h");
  }
}

}  // namespace ward::output::field_json
