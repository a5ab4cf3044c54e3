package cpu

// packA copies rows [i0, i0+mb) x columns [p0, p0+kb) of a into micro-panels of mr rows:
// panel p holds, for each of the kb steps, its mr values (rows past mb are zero), at
// dst[p*mr*kb:]. This is the order the micro-kernel reads A in. The GEMM packs one panel
// per call (mb <= mr), so that the cores share the packing.
func packA(dst []float32, a Matrix, i0, mb, p0, kb, mr int) {
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		d := dst[ir*kb : ir*kb+mr*kb]
		if rows < mr {
			clear(d)
		}
		base := a.Offset + (i0+ir)*a.RowStride + p0*a.ColStride
		switch {
		case a.RowStride == 1: // a column of A is contiguous (A transposed): copy runs of rows
			for kk := 0; kk < kb; kk++ {
				s := base + kk*a.ColStride
				copySmall(d[kk*mr:kk*mr+rows], a.Data[s:s+rows])
			}
		case a.ColStride == 1: // rows contiguous: gather step kk of every row (the rows' cache lines stay in L1)
			gatherSteps(d, a.Data[base:], a.RowStride, rows, kb, mr)
		default:
			for r := 0; r < rows; r++ {
				for kk := 0; kk < kb; kk++ {
					d[kk*mr+r] = a.Data[base+r*a.RowStride+kk*a.ColStride]
				}
			}
		}
	}
}

// packB copies rows [p0, p0+kb) x columns [j0, j0+nb) of b into micro-panels of nr
// columns: panel p holds, for each of the kb steps, its nr values (columns past nb are
// zero), at dst[p*nr*kb:].
func packB(dst []float32, b Matrix, p0, kb, j0, nb, nr int) {
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		d := dst[jr*kb : jr*kb+nr*kb]
		if cols < nr {
			clear(d)
		}
		base := b.Offset + p0*b.RowStride + (j0+jr)*b.ColStride
		switch {
		case b.ColStride == 1: // rows of B contiguous: copy runs of columns
			for kk := 0; kk < kb; kk++ {
				s := base + kk*b.RowStride
				copySmall(d[kk*nr:kk*nr+cols], b.Data[s:s+cols])
			}
		case b.RowStride == 1: // columns contiguous (B transposed, as in x·Wᵀ): scatter each
			// column (gathering 32 columns a step apart would thrash L1's sets)
			for j := 0; j < cols; j++ {
				s := base + j*b.ColStride
				for kk, v := range b.Data[s : s+kb] {
					d[kk*nr+j] = v
				}
			}
		default:
			for j := 0; j < cols; j++ {
				for kk := 0; kk < kb; kk++ {
					d[kk*nr+j] = b.Data[base+kk*b.RowStride+j*b.ColStride]
				}
			}
		}
	}
}

// gatherSteps packs n vectors of kb contiguous values, stride apart in src, step by step:
// d[kk*width+i] = src[i*stride+kk]. Writing each step's width values together (and
// reading n streams that stay in L1) beats scattering one vector at a time.
func gatherSteps(d, src []float32, stride, n, kb, width int) {
	if n == 0 {
		return
	}
	if n == 12 && width == 12 { // the AVX-512 kernel's full panels: twelve streams at once
		gatherSteps12(d, src, stride, kb)
		return
	}
	src = src[:(n-1)*stride+kb]
	for kk := 0; kk < kb; kk++ {
		dk := d[kk*width : kk*width+n]
		s := kk
		for i := range dk {
			dk[i] = src[s]
			s += stride
		}
	}
}

// gatherSteps12 is gatherSteps for 12 vectors into panels 12 wide, with the twelve
// source rows held as slices so that the loop has no index arithmetic per value.
func gatherSteps12(d, src []float32, stride, kb int) {
	r0 := src[:kb]
	r1, r2, r3 := src[stride:][:len(r0)], src[2*stride:][:len(r0)], src[3*stride:][:len(r0)]
	r4, r5, r6 := src[4*stride:][:len(r0)], src[5*stride:][:len(r0)], src[6*stride:][:len(r0)]
	r7, r8, r9 := src[7*stride:][:len(r0)], src[8*stride:][:len(r0)], src[9*stride:][:len(r0)]
	r10, r11 := src[10*stride:][:len(r0)], src[11*stride:][:len(r0)]
	d = d[:12*len(r0)]
	for kk := range r0 {
		dk := (*[12]float32)(d[12*kk:])
		dk[0], dk[1], dk[2], dk[3] = r0[kk], r1[kk], r2[kk], r3[kk]
		dk[4], dk[5], dk[6], dk[7] = r4[kk], r5[kk], r6[kk], r7[kk]
		dk[8], dk[9], dk[10], dk[11] = r8[kk], r9[kk], r10[kk], r11[kk]
	}
}

// copySmall is copy for the few values of one packing step: the panel widths as
// fixed-size moves, which the compiler inlines (a call of memmove costs more than
// moving 48 bytes).
func copySmall(dst, src []float32) {
	switch len(dst) {
	case 32:
		*(*[32]float32)(dst) = *(*[32]float32)(src)
	case 16:
		*(*[16]float32)(dst) = *(*[16]float32)(src)
	case 12:
		*(*[12]float32)(dst) = *(*[12]float32)(src)
	case 6:
		*(*[6]float32)(dst) = *(*[6]float32)(src)
	case 4:
		*(*[4]float32)(dst) = *(*[4]float32)(src)
	default:
		copy(dst, src)
	}
}
