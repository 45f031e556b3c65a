/* SPDX-License-Identifier: MIT */
/* dtypes.h - the ten dtypes, listed once for the library (and the CLI).
 *
 * BRG__DTYPES(X) calls X(DT, SUF, T, KIND, SIZE, NAME, DESCR, NUMPY) for each, in code order:
 * DT its brg_dtype, SUF the suffix of the names made for it (f64), T its C type, KIND one of
 * BRG__FLOAT, BRG__SIGNED, BRG__UNSIGNED, SIZE its bytes, NAME brigade's name ("f64"), DESCR
 * its NPY descr ("<f8"), NUMPY numpy's name ("float64").
 *
 * A per-dtype template is instantiated by dtype_each.h, which cannot be written with this
 * list (a macro cannot #include); its users build their tables with this list, so a dtype it
 * lacked would be a missing symbol at compile time. */
#ifndef BRG_DTYPES_H
#define BRG_DTYPES_H

#include <stdint.h>

#define BRG__FLOAT 0
#define BRG__SIGNED 1
#define BRG__UNSIGNED 2

#define BRG__DTYPES(X)                                                                        \
	X(BRG_F32, f32, float, BRG__FLOAT, 4, "f32", "<f4", "float32")                        \
	X(BRG_F64, f64, double, BRG__FLOAT, 8, "f64", "<f8", "float64")                       \
	X(BRG_I8, i8, int8_t, BRG__SIGNED, 1, "i8", "|i1", "int8")                            \
	X(BRG_I16, i16, int16_t, BRG__SIGNED, 2, "i16", "<i2", "int16")                       \
	X(BRG_I32, i32, int32_t, BRG__SIGNED, 4, "i32", "<i4", "int32")                       \
	X(BRG_I64, i64, int64_t, BRG__SIGNED, 8, "i64", "<i8", "int64")                       \
	X(BRG_U8, u8, uint8_t, BRG__UNSIGNED, 1, "u8", "|u1", "uint8")                        \
	X(BRG_U16, u16, uint16_t, BRG__UNSIGNED, 2, "u16", "<u2", "uint16")                   \
	X(BRG_U32, u32, uint32_t, BRG__UNSIGNED, 4, "u32", "<u4", "uint32")                   \
	X(BRG_U64, u64, uint64_t, BRG__UNSIGNED, 8, "u64", "<u8", "uint64")

/* A table indexed by dtype of &PREFIX<suffix>: [BRG_F32] = &set_f32, ... */
#define BRG__DTYPE_ENTRY_(DT, SUF, T, KIND, SIZE, NAME, DESCR, NUMPY, PREFIX) \
	[DT] = &PREFIX##SUF,

#endif
