// eslogger-style JSON Lines. Field names follow es_message_t as eslogger
// prints them; each payload struct's fields() drives its part, so a field
// added to a struct shows up here (and in the golden files) by construction.
#include <type_traits>

#include "output/json_writer.h"
#include "output/serializer.h"
#include "ward/fields.h"

namespace ward::output {
namespace {

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

template <typename T>
void write_value(JsonWriter& w, const T& v);

template <Described T>
void write_object(JsonWriter& w, const T& obj) {
  w.begin_object();
  for_each_field(obj, [&](std::string_view name, const auto& member) {
    w.key(name);
    write_value(w, member);
  });
  w.end_object();
}

template <typename T>
void write_value(JsonWriter& w, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    w.value(v);
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    w.value(static_cast<int64_t>(v));
  } else if constexpr (std::is_integral_v<T>) {
    w.value(static_cast<uint64_t>(v));
  } else if constexpr (std::is_same_v<T, std::string>) {
    w.value(std::string_view(v));
  } else if constexpr (std::is_same_v<T, WallTime>) {
    w.value(format_rfc3339_ns(v.ns));
  } else if constexpr (std::is_same_v<T, Timespec>) {
    w.value(format_rfc3339_ns(static_cast<uint64_t>(v.sec) * 1'000'000'000 + v.nsec));
  } else if constexpr (is_optional<T>::value) {
    if (v)
      write_value(w, *v);
    else
      w.null();
  } else if constexpr (is_shared_ptr<T>::value) {
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
    static_assert(sizeof(T) == 0, "no JSON form for this field type");
  }
}

class EsloggerJson final : public Serializer {
 public:
  void serialize(const Message& m, std::string& out) const override {
    JsonWriter w(out);
    w.begin_object();
    w.key("schema_version");
    w.value(kEsloggerSchemaVersion);
    w.key("version");
    w.value(m.version);
    w.key("time");
    w.value(format_rfc3339_ns(m.time_ns));
    w.key("mach_time");  // eslogger's name; here CLOCK_BOOTTIME ns
    w.value(m.mono_time_ns);
    w.key("event_type");
    w.value(static_cast<uint32_t>(m.event_type));
    w.key("action_type");
    w.value(static_cast<uint32_t>(m.action_type));
    if (m.action_type == ActionType::Auth) {
      w.key("deadline");
      w.value(m.deadline_ns);
    }
    w.key("seq_num");
    w.value(m.seq_num);
    w.key("global_seq_num");
    w.value(m.global_seq_num);
    w.key("thread");
    w.begin_object();
    w.key("thread_id");
    w.value(static_cast<int64_t>(m.thread_id));
    w.end_object();
    w.key("process");
    write_value(w, m.process);
    w.key("event");
    w.begin_object();
    if (m.event) {
      std::visit(
          [&](const auto& payload) {
            w.key(std::decay_t<decltype(payload)>::kKey);
            write_object(w, payload);
          },
          *m.event);
    }
    w.end_object();
    w.end_object();
  }

  void serialize_drop(const DropReport& d, std::string& out) const override {
    JsonWriter w(out);
    w.begin_object();
    w.key("schema_version");
    w.value(kEsloggerSchemaVersion);
    w.key("drop");
    w.begin_object();
    w.key("source");
    w.value(std::string_view(d.source));
    w.key("event_type");
    if (d.event_type)
      w.value(static_cast<uint32_t>(*d.event_type));
    else
      w.null();
    w.key("count");
    w.value(d.count);
    w.end_object();
    w.end_object();
  }
};

}  // namespace

std::unique_ptr<Serializer> make_eslogger_json_serializer() { return std::make_unique<EsloggerJson>(); }

}  // namespace ward::output
