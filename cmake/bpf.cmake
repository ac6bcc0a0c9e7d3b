# BPF programs: bpf/NAME.bpf.c -> NAME.bpf.o -> NAME.skel.h (libbpf skeleton).
# vmlinux.h is generated from the build machine's BTF; CO-RE relocations make
# the objects load on other kernels.
find_program(CLANG clang REQUIRED)
find_program(BPFTOOL bpftool REQUIRED PATHS /usr/sbin /usr/local/sbin)
find_program(LLVM_STRIP llvm-strip REQUIRED)

set(WARD_BPF_OUT ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${WARD_BPF_OUT})
set(WARD_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "BTF used to generate vmlinux.h")

add_custom_command(
  OUTPUT ${WARD_BPF_OUT}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${WARD_VMLINUX_BTF} format c > ${WARD_BPF_OUT}/vmlinux.h
  COMMENT "Generating vmlinux.h from ${WARD_VMLINUX_BTF}"
  VERBATIM)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64")
  set(WARD_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64")
  set(WARD_BPF_ARCH arm64)
else()
  set(WARD_BPF_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

add_custom_target(ward_bpf_skeletons)
# Every BPF object depends on every shared header in bpf/.
file(GLOB WARD_BPF_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bpf/*.h)

function(ward_bpf_skeleton name)
  set(src ${CMAKE_SOURCE_DIR}/bpf/${name}.bpf.c)
  set(obj ${WARD_BPF_OUT}/${name}.bpf.o)
  set(skel ${WARD_BPF_OUT}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CLANG} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_${WARD_BPF_ARCH}
            -I${WARD_BPF_OUT} -I${CMAKE_SOURCE_DIR}/bpf -c ${src} -o ${obj}.tmp
    COMMAND ${BPFTOOL} gen object ${obj} ${obj}.tmp
    DEPENDS ${src} ${WARD_BPF_HEADERS} ${WARD_BPF_OUT}/vmlinux.h
    COMMENT "BPF ${name}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "Skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(ward_bpf_${name} DEPENDS ${skel})
  add_dependencies(ward_bpf_skeletons ward_bpf_${name})
endfunction()
