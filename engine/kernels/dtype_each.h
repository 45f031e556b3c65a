/* SPDX-License-Identifier: MIT */
/* dtype_each.h - includes the template named by BRG__DTYPE_TMPL once per dtype of dtypes.h,
 * with T (the C type), SUF (f64...), DT (the brg_dtype), KIND (BRG__FLOAT, BRG__SIGNED,
 * BRG__UNSIGNED), UT (the unsigned type of at least 32 bits integer arithmetic of T wraps in),
 * IT (the signed integer of a float's width; 64 bits for integers, unsigned for unsigned ones)
 * and NORM_SCALED (norm2 needs scaling: f64) defined; the template undefines them.  No include
 * guard: included once per template. */
#define T float
#define SUF f32
#define DT BRG_F32
#define KIND BRG__FLOAT
#define UT uint32_t
#define IT int32_t
#define NORM_SCALED 0
#include BRG__DTYPE_TMPL
#define T double
#define SUF f64
#define DT BRG_F64
#define KIND BRG__FLOAT
#define UT uint64_t
#define IT int64_t
#define NORM_SCALED 1
#include BRG__DTYPE_TMPL
#define T int8_t
#define SUF i8
#define DT BRG_I8
#define KIND BRG__SIGNED
#define UT uint32_t
#define IT int64_t
#define NORM_SCALED 0
#include BRG__DTYPE_TMPL
#define T int16_t
#define SUF i16
#define DT BRG_I16
#define KIND BRG__SIGNED
#define UT uint32_t
#define IT int64_t
#define NORM_SCALED 0
#include BRG__DTYPE_TMPL
#define T int32_t
#define SUF i32
#define DT BRG_I32
#define KIND BRG__SIGNED
#define UT uint32_t
#define IT int64_t
#define NORM_SCALED 0
#include BRG__DTYPE_TMPL
#define T int64_t
#define SUF i64
#define DT BRG_I64
#define KIND BRG__SIGNED
#define UT uint64_t
#define IT int64_t
#define NORM_SCALED 0
#include BRG__DTYPE_TMPL
#define T uint8_t
#define SUF u8
#define DT BRG_U8
#define KIND BRG__UNSIGNED
#define UT uint32_t
#define IT uint64_t
#define NORM_SCALED 0
#include BRG__DTYPE_TMPL
#define T uint16_t
#define SUF u16
#define DT BRG_U16
#define KIND BRG__UNSIGNED
#define UT uint32_t
#define IT uint64_t
#define NORM_SCALED 0
#include BRG__DTYPE_TMPL
#define T uint32_t
#define SUF u32
#define DT BRG_U32
#define KIND BRG__UNSIGNED
#define UT uint32_t
#define IT uint64_t
#define NORM_SCALED 0
#include BRG__DTYPE_TMPL
#define T uint64_t
#define SUF u64
#define DT BRG_U64
#define KIND BRG__UNSIGNED
#define UT uint64_t
#define IT uint64_t
#define NORM_SCALED 0
#include BRG__DTYPE_TMPL
