;; Finds where a three-byte fingerprint of up to 16 literals may start: Teddy, the packed
;; multi-literal search of Hyperscan and Rust's aho-corasick, in 16-byte WebAssembly SIMD steps.
;; Compiled by scripts/build-wasm.mjs into fingerprint-wasm.ts; literal-scan.ts explains its use.
;;
;; Memory: bytes 0-191 hold two sets (buckets 0-7, 8-15) of six 16-byte tables, for the low and
;; the high nibble of each fingerprint byte: bit b of lo0[n] says some literal of bucket b has a
;; first byte whose low nibble is n. Bytes 192-223 are scratch, 224-227 the bucket mask of the
;; last position found, and the text is copied from 256 on, followed by at least 18 bytes of room.
(module
  (memory (export "memory") 1)

  ;; The first position p in [from, end) where some bucket accepts bytes p, p+1 and p+2, or -1.
  ;; Also stores that position's 16 bucket bits at 224. May read up to 18 bytes past end, and
  ;; may return a position whose fingerprint reaches past end: the caller checks what it finds.
  (func (export "scan") (param $p i32) (param $end i32) (result i32)
    (local $alo0 v128) (local $ahi0 v128) (local $alo1 v128) (local $ahi1 v128) (local $alo2 v128) (local $ahi2 v128)
    (local $blo0 v128) (local $bhi0 v128) (local $blo1 v128) (local $bhi1 v128) (local $blo2 v128) (local $bhi2 v128)
    (local $nib v128) (local $v v128) (local $lo v128) (local $hi v128) (local $ma v128) (local $mb v128) (local $lane i32)
    (local.set $alo0 (v128.load (i32.const 0)))
    (local.set $ahi0 (v128.load (i32.const 16)))
    (local.set $alo1 (v128.load (i32.const 32)))
    (local.set $ahi1 (v128.load (i32.const 48)))
    (local.set $alo2 (v128.load (i32.const 64)))
    (local.set $ahi2 (v128.load (i32.const 80)))
    (local.set $blo0 (v128.load (i32.const 96)))
    (local.set $bhi0 (v128.load (i32.const 112)))
    (local.set $blo1 (v128.load (i32.const 128)))
    (local.set $bhi1 (v128.load (i32.const 144)))
    (local.set $blo2 (v128.load (i32.const 160)))
    (local.set $bhi2 (v128.load (i32.const 176)))
    (local.set $nib (i8x16.splat (i32.const 15)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; Byte 0 of the fingerprint at each of the 16 positions: the buckets its nibbles allow.
        (local.set $v (v128.load (local.get $p)))
        (local.set $lo (v128.and (local.get $v) (local.get $nib)))
        (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
        (local.set $ma (v128.and (i8x16.swizzle (local.get $alo0) (local.get $lo)) (i8x16.swizzle (local.get $ahi0) (local.get $hi))))
        (local.set $mb (v128.and (i8x16.swizzle (local.get $blo0) (local.get $lo)) (i8x16.swizzle (local.get $bhi0) (local.get $hi))))
        ;; Byte 1, one position on: the buckets left.
        (local.set $v (v128.load offset=1 (local.get $p)))
        (local.set $lo (v128.and (local.get $v) (local.get $nib)))
        (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
        (local.set $ma (v128.and (local.get $ma) (v128.and (i8x16.swizzle (local.get $alo1) (local.get $lo)) (i8x16.swizzle (local.get $ahi1) (local.get $hi)))))
        (local.set $mb (v128.and (local.get $mb) (v128.and (i8x16.swizzle (local.get $blo1) (local.get $lo)) (i8x16.swizzle (local.get $bhi1) (local.get $hi)))))
        ;; Byte 2.
        (local.set $v (v128.load offset=2 (local.get $p)))
        (local.set $lo (v128.and (local.get $v) (local.get $nib)))
        (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
        (local.set $ma (v128.and (local.get $ma) (v128.and (i8x16.swizzle (local.get $alo2) (local.get $lo)) (i8x16.swizzle (local.get $ahi2) (local.get $hi)))))
        (local.set $mb (v128.and (local.get $mb) (v128.and (i8x16.swizzle (local.get $blo2) (local.get $lo)) (i8x16.swizzle (local.get $bhi2) (local.get $hi)))))
        (if (v128.any_true (v128.or (local.get $ma) (local.get $mb)))
          (then
            ;; The first lane any bucket accepts, and its bucket bits.
            (v128.store (i32.const 192) (local.get $ma))
            (v128.store (i32.const 208) (local.get $mb))
            (local.set $lane (i32.ctz (i32.xor (i32.const 0xffff)
              (i8x16.bitmask (i8x16.eq (v128.or (local.get $ma) (local.get $mb)) (v128.const i64x2 0 0))))))
            (i32.store (i32.const 224) (i32.or
              (i32.load8_u offset=192 (local.get $lane))
              (i32.shl (i32.load8_u offset=208 (local.get $lane)) (i32.const 8))))
            (return (i32.add (local.get $p) (local.get $lane)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))
    (i32.const -1)))
