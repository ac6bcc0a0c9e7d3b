// Compile-time field lists: each event and value struct names its fields once,
// and serializers walk them generically. This is what keeps the eslogger JSON,
// the golden files and the docs in step with the structs.
#pragma once

#include <string_view>
#include <tuple>

namespace ward {

template <typename Class, typename Member>
struct Field {
  std::string_view name;
  Member Class::*member;
};

template <typename Class, typename Member>
constexpr Field<Class, Member> field(std::string_view name, Member Class::*member) {
  return {name, member};
}

// Calls f(name, value) for every field of `obj`, in declaration order.
template <typename T, typename F>
constexpr void for_each_field(const T& obj, F&& f) {
  std::apply([&](const auto&... fld) { (f(fld.name, obj.*(fld.member)), ...); }, T::fields());
}

template <typename T>
concept Described = requires {
  T::fields();
};

}  // namespace ward
