//! Four-lane f32 vectors for the kernels: wasm `simd128` instructions when the build enables
//! them (the face worker and its benchmark are built with `-C target-feature=+simd128`), else
//! a portable `[f32; 4]` (native tests; LLVM vectorises it for the host). LLVM does not
//! auto-vectorise the kernels' loops for wasm (measured: the wasm had no `f32x4` instruction),
//! hence explicit vectors.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    // The only unsafe code in the crate: unaligned 16-byte loads and stores through pointers of
    // slices that were just bounds-checked to hold 4 floats (see each use).
    #![allow(unsafe_code)]
    use core::arch::wasm32::{
        f32x4_add, f32x4_max, f32x4_mul, f32x4_splat, v128, v128_load, v128_store,
    };

    #[derive(Clone, Copy)]
    pub struct F4(v128);

    impl F4 {
        #[inline(always)]
        pub fn splat(x: f32) -> F4 {
            F4(f32x4_splat(x))
        }

        /// The first four floats of `s` (panics when it has fewer).
        #[inline(always)]
        pub fn load(s: &[f32]) -> F4 {
            let s: &[f32; 4] = s[..4].try_into().expect("4 floats");
            // SAFETY: `s` is a live reference to 4 initialised f32 (16 bytes), so the 16-byte
            // read is in bounds; `v128_load` has no alignment requirement (it is emitted with
            // alignment 1) and every bit pattern is a valid v128.
            F4(unsafe { v128_load(s.as_ptr().cast::<v128>()) })
        }

        /// Writes the four lanes to the first four floats of `d` (panics when it has fewer).
        #[inline(always)]
        pub fn store(self, d: &mut [f32]) {
            let d: &mut [f32; 4] = (&mut d[..4]).try_into().expect("4 floats");
            // SAFETY: `d` is a live exclusive reference to 4 f32 (16 bytes), so the 16-byte
            // write is in bounds and aliases nothing else; no alignment is required and every
            // bit pattern is a valid f32.
            unsafe { v128_store(d.as_mut_ptr().cast::<v128>(), self.0) }
        }

        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            F4(f32x4_add(self.0, o.0))
        }

        #[inline(always)]
        pub fn mul(self, o: F4) -> F4 {
            F4(f32x4_mul(self.0, o.0))
        }

        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            F4(f32x4_max(self.0, o.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct F4([f32; 4]);

    impl F4 {
        #[inline(always)]
        pub fn splat(x: f32) -> F4 {
            F4([x; 4])
        }

        #[inline(always)]
        pub fn load(s: &[f32]) -> F4 {
            F4(s[..4].try_into().expect("4 floats"))
        }

        #[inline(always)]
        pub fn store(self, d: &mut [f32]) {
            d[..4].copy_from_slice(&self.0);
        }

        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            F4([
                self.0[0] + o.0[0],
                self.0[1] + o.0[1],
                self.0[2] + o.0[2],
                self.0[3] + o.0[3],
            ])
        }

        #[inline(always)]
        pub fn mul(self, o: F4) -> F4 {
            F4([
                self.0[0] * o.0[0],
                self.0[1] * o.0[1],
                self.0[2] * o.0[2],
                self.0[3] * o.0[3],
            ])
        }

        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            F4([
                self.0[0].max(o.0[0]),
                self.0[1].max(o.0[1]),
                self.0[2].max(o.0[2]),
                self.0[3].max(o.0[3]),
            ])
        }
    }
}

pub(crate) use imp::F4;

impl F4 {
    /// `self + a · b`.
    #[inline(always)]
    pub fn mul_add(self, a: F4, b: F4) -> F4 {
        self.add(a.mul(b))
    }
}
