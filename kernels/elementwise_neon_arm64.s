//go:build !noasm

#include "textflag.h"

// Element-wise kernels, NEON. Each one handles n floats, n a multiple of 4 (the Go wrappers in
// elementwise_arm64.go run the reference on the last n mod 4): sixteen at a time, then four.
//
// Go's assembler has no vector floating-point arithmetic beyond FMLA/FMLS, so FADD, FSUB, FMUL, FDIV,
// FSQRT, FCMGT/FCMLE (compare with zero), FCVTL/FCVTL2 and FADDP are WORD lines. Each encoding was
// produced by llvm-mc -triple=aarch64 -show-encoding from the instruction in its comment and checked
// back by disassembling every word (llvm-mc --disassemble); the element-wise tests run every one.
//
// Go operand order, for the mnemonics it has: VFMLA Vm, Vn, Vd is Vd += Vn·Vm; VFMLS Vm, Vn, Vd is
// Vd -= Vn·Vm; VBIT Vm, Vn, Vd copies the bits of Vn into Vd where Vm is set.

// ReLU as "x <= 0 ? 0 : x" (compare, then clear the lanes that compared true) rather than FMAX: it is
// bit-exact with the reference, NaN payloads included, and turns -0 into +0 the same way.

// func relu_neon(dst, src *float32, n int)
TEXT ·relu_neon(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	VEOR V31.B16, V31.B16, V31.B16
	LSR  $4, R2, R3
	AND  $15, R2, R2
	LSR  $2, R2, R2
	CBZ  R3, four

sixteen:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD $0x6ea0d804 // fcmle v4.4s, v0.4s, #0.0
	WORD $0x6ea0d825 // fcmle v5.4s, v1.4s, #0.0
	WORD $0x6ea0d846 // fcmle v6.4s, v2.4s, #0.0
	WORD $0x6ea0d867 // fcmle v7.4s, v3.4s, #0.0
	VBIT   V4.B16, V31.B16, V0.B16
	VBIT   V5.B16, V31.B16, V1.B16
	VBIT   V6.B16, V31.B16, V2.B16
	VBIT   V7.B16, V31.B16, V3.B16
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUBS   $1, R3, R3
	BNE    sixteen

four:
	CBZ R2, done

fourloop:
	VLD1.P 16(R1), [V0.S4]
	WORD $0x6ea0d804 // fcmle v4.4s, v0.4s, #0.0
	VBIT   V4.B16, V31.B16, V0.B16
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R2, R2
	BNE    fourloop

done:
	RET

// func reluBack_neon(dx, dy, y *float32, n int)
TEXT ·reluBack_neon(SB), NOSPLIT, $0-32
	MOVD dx+0(FP), R0
	MOVD dy+8(FP), R1
	MOVD y+16(FP), R2
	MOVD n+24(FP), R3
	LSR  $4, R3, R4
	AND  $15, R3, R3
	LSR  $2, R3, R3
	CBZ  R4, four

sixteen:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x4ea0c884 // fcmgt v4.4s, v4.4s, #0.0
	WORD $0x4ea0c8a5 // fcmgt v5.4s, v5.4s, #0.0
	WORD $0x4ea0c8c6 // fcmgt v6.4s, v6.4s, #0.0
	WORD $0x4ea0c8e7 // fcmgt v7.4s, v7.4s, #0.0
	VAND   V4.B16, V0.B16, V0.B16
	VAND   V5.B16, V1.B16, V1.B16
	VAND   V6.B16, V2.B16, V2.B16
	VAND   V7.B16, V3.B16, V3.B16
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUBS   $1, R4, R4
	BNE    sixteen

four:
	CBZ R3, done

fourloop:
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R2), [V4.S4]
	WORD $0x4ea0c884 // fcmgt v4.4s, v4.4s, #0.0
	VAND   V4.B16, V0.B16, V0.B16
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R3, R3
	BNE    fourloop

done:
	RET

// func affine_neon(dst, src *float32, n int, a, b float32)
TEXT ·affine_neon(SB), NOSPLIT, $0-32
	MOVD  dst+0(FP), R0
	MOVD  src+8(FP), R1
	MOVD  n+16(FP), R2
	FMOVS a+24(FP), F30
	FMOVS b+28(FP), F31
	VDUP  V30.S[0], V30.S4
	VDUP  V31.S[0], V31.S4
	LSR   $4, R2, R3
	AND   $15, R2, R2
	LSR   $2, R2, R2
	CBZ   R3, four

sixteen:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VMOV   V31.B16, V4.B16
	VMOV   V31.B16, V5.B16
	VMOV   V31.B16, V6.B16
	VMOV   V31.B16, V7.B16
	VFMLA  V30.S4, V0.S4, V4.S4
	VFMLA  V30.S4, V1.S4, V5.S4
	VFMLA  V30.S4, V2.S4, V6.S4
	VFMLA  V30.S4, V3.S4, V7.S4
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUBS   $1, R3, R3
	BNE    sixteen

four:
	CBZ R2, done

fourloop:
	VLD1.P 16(R1), [V0.S4]
	VMOV   V31.B16, V4.B16
	VFMLA  V30.S4, V0.S4, V4.S4
	VST1.P [V4.S4], 16(R0)
	SUBS   $1, R2, R2
	BNE    fourloop

done:
	RET

// func affineReLU_neon(dst, src *float32, n int, a, b float32)
TEXT ·affineReLU_neon(SB), NOSPLIT, $0-32
	MOVD  dst+0(FP), R0
	MOVD  src+8(FP), R1
	MOVD  n+16(FP), R2
	FMOVS a+24(FP), F30
	FMOVS b+28(FP), F31
	VDUP  V30.S[0], V30.S4
	VDUP  V31.S[0], V31.S4
	VEOR  V29.B16, V29.B16, V29.B16
	LSR   $4, R2, R3
	AND   $15, R2, R2
	LSR   $2, R2, R2
	CBZ   R3, four

sixteen:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VMOV   V31.B16, V4.B16
	VMOV   V31.B16, V5.B16
	VMOV   V31.B16, V6.B16
	VMOV   V31.B16, V7.B16
	VFMLA  V30.S4, V0.S4, V4.S4
	VFMLA  V30.S4, V1.S4, V5.S4
	VFMLA  V30.S4, V2.S4, V6.S4
	VFMLA  V30.S4, V3.S4, V7.S4
	WORD $0x6ea0d880 // fcmle v0.4s, v4.4s, #0.0
	WORD $0x6ea0d8a1 // fcmle v1.4s, v5.4s, #0.0
	WORD $0x6ea0d8c2 // fcmle v2.4s, v6.4s, #0.0
	WORD $0x6ea0d8e3 // fcmle v3.4s, v7.4s, #0.0
	VBIT   V0.B16, V29.B16, V4.B16
	VBIT   V1.B16, V29.B16, V5.B16
	VBIT   V2.B16, V29.B16, V6.B16
	VBIT   V3.B16, V29.B16, V7.B16
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUBS   $1, R3, R3
	BNE    sixteen

four:
	CBZ R2, done

fourloop:
	VLD1.P 16(R1), [V0.S4]
	VMOV   V31.B16, V4.B16
	VFMLA  V30.S4, V0.S4, V4.S4
	WORD $0x6ea0d880 // fcmle v0.4s, v4.4s, #0.0
	VBIT   V0.B16, V29.B16, V4.B16
	VST1.P [V4.S4], 16(R0)
	SUBS   $1, R2, R2
	BNE    fourloop

done:
	RET

// func add_neon(dst, src *float32, n int)
TEXT ·add_neon(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	MOVD R0, R4 // dst is read through R4, written through R0
	LSR  $4, R2, R3
	AND  $15, R2, R2
	LSR  $2, R2, R2
	CBZ  R3, four

sixteen:
	VLD1.P 64(R4), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x4e24d400 // fadd v0.4s, v0.4s, v4.4s
	WORD $0x4e25d421 // fadd v1.4s, v1.4s, v5.4s
	WORD $0x4e26d442 // fadd v2.4s, v2.4s, v6.4s
	WORD $0x4e27d463 // fadd v3.4s, v3.4s, v7.4s
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUBS   $1, R3, R3
	BNE    sixteen

four:
	CBZ R2, done

fourloop:
	VLD1.P 16(R4), [V0.S4]
	VLD1.P 16(R1), [V4.S4]
	WORD $0x4e24d400 // fadd v0.4s, v0.4s, v4.4s
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R2, R2
	BNE    fourloop

done:
	RET

// func bnNorm_neon(y, xhat, x *float32, n int, mean, invStd, gamma, beta float32)
TEXT ·bnNorm_neon(SB), NOSPLIT, $0-48
	MOVD  y+0(FP), R0
	MOVD  xhat+8(FP), R1
	MOVD  x+16(FP), R2
	MOVD  n+24(FP), R3
	FMOVS mean+32(FP), F28
	FMOVS invStd+36(FP), F29
	FMOVS gamma+40(FP), F30
	FMOVS beta+44(FP), F31
	VDUP  V28.S[0], V28.S4
	VDUP  V29.S[0], V29.S4
	VDUP  V30.S[0], V30.S4
	VDUP  V31.S[0], V31.S4
	LSR   $4, R3, R4
	AND   $15, R3, R3
	LSR   $2, R3, R3
	CBZ   R4, four

sixteen:
	VLD1.P 64(R2), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD $0x4ebcd400 // fsub v0.4s, v0.4s, v28.4s
	WORD $0x4ebcd421 // fsub v1.4s, v1.4s, v28.4s
	WORD $0x4ebcd442 // fsub v2.4s, v2.4s, v28.4s
	WORD $0x4ebcd463 // fsub v3.4s, v3.4s, v28.4s
	WORD $0x6e3ddc00 // fmul v0.4s, v0.4s, v29.4s
	WORD $0x6e3ddc21 // fmul v1.4s, v1.4s, v29.4s
	WORD $0x6e3ddc42 // fmul v2.4s, v2.4s, v29.4s
	WORD $0x6e3ddc63 // fmul v3.4s, v3.4s, v29.4s
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R1)
	VMOV   V31.B16, V4.B16
	VMOV   V31.B16, V5.B16
	VMOV   V31.B16, V6.B16
	VMOV   V31.B16, V7.B16
	VFMLA  V30.S4, V0.S4, V4.S4
	VFMLA  V30.S4, V1.S4, V5.S4
	VFMLA  V30.S4, V2.S4, V6.S4
	VFMLA  V30.S4, V3.S4, V7.S4
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUBS   $1, R4, R4
	BNE    sixteen

four:
	CBZ R3, done

fourloop:
	VLD1.P 16(R2), [V0.S4]
	WORD $0x4ebcd400 // fsub v0.4s, v0.4s, v28.4s
	WORD $0x6e3ddc00 // fmul v0.4s, v0.4s, v29.4s
	VST1.P [V0.S4], 16(R1)
	VMOV   V31.B16, V4.B16
	VFMLA  V30.S4, V0.S4, V4.S4
	VST1.P [V4.S4], 16(R0)
	SUBS   $1, R3, R3
	BNE    fourloop

done:
	RET

// func bnBack_neon(dx, dy, xhat *float32, n int, k, a, b float32)
TEXT ·bnBack_neon(SB), NOSPLIT, $0-44
	MOVD  dx+0(FP), R0
	MOVD  dy+8(FP), R1
	MOVD  xhat+16(FP), R2
	MOVD  n+24(FP), R3
	FMOVS k+32(FP), F29
	FMOVS a+36(FP), F30
	FMOVS b+40(FP), F31
	VDUP  V29.S[0], V29.S4
	VDUP  V30.S[0], V30.S4
	VDUP  V31.S[0], V31.S4
	LSR   $4, R3, R4
	AND   $15, R3, R3
	LSR   $2, R3, R3
	CBZ   R4, four

sixteen:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x4ebed400 // fsub v0.4s, v0.4s, v30.4s
	WORD $0x4ebed421 // fsub v1.4s, v1.4s, v30.4s
	WORD $0x4ebed442 // fsub v2.4s, v2.4s, v30.4s
	WORD $0x4ebed463 // fsub v3.4s, v3.4s, v30.4s
	VFMLS  V31.S4, V4.S4, V0.S4
	VFMLS  V31.S4, V5.S4, V1.S4
	VFMLS  V31.S4, V6.S4, V2.S4
	VFMLS  V31.S4, V7.S4, V3.S4
	WORD $0x6e3ddc00 // fmul v0.4s, v0.4s, v29.4s
	WORD $0x6e3ddc21 // fmul v1.4s, v1.4s, v29.4s
	WORD $0x6e3ddc42 // fmul v2.4s, v2.4s, v29.4s
	WORD $0x6e3ddc63 // fmul v3.4s, v3.4s, v29.4s
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUBS   $1, R4, R4
	BNE    sixteen

four:
	CBZ R3, done

fourloop:
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R2), [V4.S4]
	WORD $0x4ebed400 // fsub v0.4s, v0.4s, v30.4s
	VFMLS  V31.S4, V4.S4, V0.S4
	WORD $0x6e3ddc00 // fmul v0.4s, v0.4s, v29.4s
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R3, R3
	BNE    fourloop

done:
	RET

// Adam, four parameters per trip: the two divisions and the square root dominate, so wider unrolling
// buys little. c1 = 1-b1 and c2 = 1-b2 come from the caller, computed once as the reference does.

// func adam_neon(p, grad, m, v *float32, n int, b1, c1, b2, c2, stepSize, sqrtBC2, eps float32)
TEXT ·adam_neon(SB), NOSPLIT, $0-68
	MOVD  p+0(FP), R0
	MOVD  grad+8(FP), R1
	MOVD  m+16(FP), R2
	MOVD  v+24(FP), R3
	MOVD  n+32(FP), R4
	FMOVS b1+40(FP), F25
	FMOVS c1+44(FP), F26
	FMOVS b2+48(FP), F27
	FMOVS c2+52(FP), F28
	FMOVS stepSize+56(FP), F29
	FMOVS sqrtBC2+60(FP), F30
	FMOVS eps+64(FP), F31
	VDUP  V25.S[0], V25.S4
	VDUP  V26.S[0], V26.S4
	VDUP  V27.S[0], V27.S4
	VDUP  V28.S[0], V28.S4
	VDUP  V29.S[0], V29.S4
	VDUP  V30.S[0], V30.S4
	VDUP  V31.S[0], V31.S4
	LSR   $2, R4, R4
	CBZ   R4, done

loop:
	VLD1.P 16(R1), [V0.S4]
	VLD1   (R2), [V1.S4]
	VLD1   (R3), [V2.S4]
	VLD1   (R0), [V3.S4]
	WORD $0x6e3adc04 // fmul v4.4s, v0.4s, v26.4s
	VFMLA  V25.S4, V1.S4, V4.S4
	WORD $0x6e3cdc05 // fmul v5.4s, v0.4s, v28.4s
	WORD $0x6e20dca5 // fmul v5.4s, v5.4s, v0.4s
	VFMLA  V27.S4, V2.S4, V5.S4
	VST1.P [V4.S4], 16(R2)
	VST1.P [V5.S4], 16(R3)
	WORD $0x6ea1f8a6 // fsqrt v6.4s, v5.4s
	WORD $0x6e3efcc6 // fdiv v6.4s, v6.4s, v30.4s
	WORD $0x4e3fd4c6 // fadd v6.4s, v6.4s, v31.4s
	WORD $0x6e26fc86 // fdiv v6.4s, v4.4s, v6.4s
	VFMLS  V29.S4, V6.S4, V3.S4
	VST1.P [V3.S4], 16(R0)
	SUBS   $1, R4, R4
	BNE    loop

done:
	RET

// The reductions widen to float64 (FCVTL/FCVTL2) before adding, as the reference does; lanes sum
// separately and meet at the end, so the order differs from the reference's by float64 rounding only.

// func sum_neon(x *float32, n int) float64
TEXT ·sum_neon(SB), NOSPLIT, $0-24
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	LSR  $3, R1, R2
	AND  $7, R1, R1
	LSR  $2, R1, R1
	CBZ  R2, four

eight:
	VLD1.P 32(R0), [V0.S4, V1.S4]
	WORD $0x0e617802 // fcvtl v2.2d, v0.2s
	WORD $0x4e617803 // fcvtl2 v3.2d, v0.4s
	WORD $0x0e617824 // fcvtl v4.2d, v1.2s
	WORD $0x4e617825 // fcvtl2 v5.2d, v1.4s
	WORD $0x4e62d610 // fadd v16.2d, v16.2d, v2.2d
	WORD $0x4e63d631 // fadd v17.2d, v17.2d, v3.2d
	WORD $0x4e64d652 // fadd v18.2d, v18.2d, v4.2d
	WORD $0x4e65d673 // fadd v19.2d, v19.2d, v5.2d
	SUBS   $1, R2, R2
	BNE    eight

four:
	CBZ R1, done

	VLD1.P 16(R0), [V0.S4]
	WORD $0x0e617802 // fcvtl v2.2d, v0.2s
	WORD $0x4e617803 // fcvtl2 v3.2d, v0.4s
	WORD $0x4e62d610 // fadd v16.2d, v16.2d, v2.2d
	WORD $0x4e63d631 // fadd v17.2d, v17.2d, v3.2d

done:
	WORD $0x4e72d610 // fadd v16.2d, v16.2d, v18.2d
	WORD $0x4e73d631 // fadd v17.2d, v17.2d, v19.2d
	WORD $0x4e71d610 // fadd v16.2d, v16.2d, v17.2d
	WORD $0x7e70da00 // faddp d0, v16.2d
	FMOVD F0, ret+16(FP)
	RET

// func sumSqDev_neon(x *float32, n int, mean float64) float64
TEXT ·sumSqDev_neon(SB), NOSPLIT, $0-32
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R1
	FMOVD mean+16(FP), F31
	VDUP  V31.D[0], V31.D2
	VEOR  V16.B16, V16.B16, V16.B16
	VEOR  V17.B16, V17.B16, V17.B16
	VEOR  V18.B16, V18.B16, V18.B16
	VEOR  V19.B16, V19.B16, V19.B16
	LSR   $3, R1, R2
	AND   $7, R1, R1
	LSR   $2, R1, R1
	CBZ   R2, four

eight:
	VLD1.P 32(R0), [V0.S4, V1.S4]
	WORD $0x0e617802 // fcvtl v2.2d, v0.2s
	WORD $0x4e617803 // fcvtl2 v3.2d, v0.4s
	WORD $0x0e617824 // fcvtl v4.2d, v1.2s
	WORD $0x4e617825 // fcvtl2 v5.2d, v1.4s
	WORD $0x4effd442 // fsub v2.2d, v2.2d, v31.2d
	WORD $0x4effd463 // fsub v3.2d, v3.2d, v31.2d
	WORD $0x4effd484 // fsub v4.2d, v4.2d, v31.2d
	WORD $0x4effd4a5 // fsub v5.2d, v5.2d, v31.2d
	VFMLA  V2.D2, V2.D2, V16.D2
	VFMLA  V3.D2, V3.D2, V17.D2
	VFMLA  V4.D2, V4.D2, V18.D2
	VFMLA  V5.D2, V5.D2, V19.D2
	SUBS   $1, R2, R2
	BNE    eight

four:
	CBZ R1, done

	VLD1.P 16(R0), [V0.S4]
	WORD $0x0e617802 // fcvtl v2.2d, v0.2s
	WORD $0x4e617803 // fcvtl2 v3.2d, v0.4s
	WORD $0x4effd442 // fsub v2.2d, v2.2d, v31.2d
	WORD $0x4effd463 // fsub v3.2d, v3.2d, v31.2d
	VFMLA  V2.D2, V2.D2, V16.D2
	VFMLA  V3.D2, V3.D2, V17.D2

done:
	WORD $0x4e72d610 // fadd v16.2d, v16.2d, v18.2d
	WORD $0x4e73d631 // fadd v17.2d, v17.2d, v19.2d
	WORD $0x4e71d610 // fadd v16.2d, v16.2d, v17.2d
	WORD $0x7e70da00 // faddp d0, v16.2d
	FMOVD F0, ret+24(FP)
	RET

// func sumDot_neon(dy, xhat *float32, n int) (sdy, sdyx float64)
TEXT ·sumDot_neon(SB), NOSPLIT, $0-40
	MOVD dy+0(FP), R0
	MOVD xhat+8(FP), R1
	MOVD n+16(FP), R2
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	LSR  $2, R2, R2
	CBZ  R2, done

loop:
	VLD1.P 16(R0), [V0.S4]
	VLD1.P 16(R1), [V1.S4]
	WORD $0x0e617802 // fcvtl v2.2d, v0.2s
	WORD $0x4e617803 // fcvtl2 v3.2d, v0.4s
	WORD $0x0e617824 // fcvtl v4.2d, v1.2s
	WORD $0x4e617825 // fcvtl2 v5.2d, v1.4s
	WORD $0x4e62d610 // fadd v16.2d, v16.2d, v2.2d
	WORD $0x4e63d631 // fadd v17.2d, v17.2d, v3.2d
	VFMLA  V4.D2, V2.D2, V18.D2
	VFMLA  V5.D2, V3.D2, V19.D2
	SUBS   $1, R2, R2
	BNE    loop

done:
	WORD $0x4e71d610 // fadd v16.2d, v16.2d, v17.2d
	WORD $0x7e70da00 // faddp d0, v16.2d
	WORD $0x4e73d652 // fadd v18.2d, v18.2d, v19.2d
	WORD $0x7e70da41 // faddp d1, v18.2d
	FMOVD F0, sdy+24(FP)
	FMOVD F1, sdyx+32(FP)
	RET
