;; The RETR encoder's inner loop, 64 bytes at a time (WebAssembly SIMD): copies the input to the
;; output, inserting CR before every LF that has none and a "." before every "." that starts a
;; line (RFC 1939 §3). Built into src/pop3/encoder-kernel-bytes.ts by ./build.sh (wat2wasm, wabt).
;;
;; Memory (owned by the JS caller, src/pop3/encoder-wasm.ts):
;;   [15]          the byte before the input (LF at the start of a message: a line starts there)
;;   [16, 16+len)  the input, at most 65536 bytes; [16+len] must be 0 (not a "."), 32 bytes of slack
;;   [65600, ...)  the output, up to 2*len bytes, plus 64 bytes the vector stores may scribble on
;; A block (64 bytes, then 16 at the tail) is stored whole at once, then each insertion stores the
;; rest of it again one byte further on: bytes written past the block are rewritten by the next
;; block's store. A 64-byte block without LF (most of a base64 part) costs one test.
(module
  (memory (export "memory") 4 4)
  (func (export "encode") (param $len i32) (result i32)
    (local $i i32) (local $end i32) (local $d i32) (local $p i32) (local $s i32) (local $m32 i32)
    (local $m i64) (local $lf v128) (local $v v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    (local.set $lf (i8x16.splat (i32.const 10)))
    (local.set $i (i32.const 16))
    (local.set $end (i32.add (i32.const 16) (local.get $len)))
    ;; output address = input address + $d
    (local.set $d (i32.const 65584))
    ;; a "." at the very start of the input starts a line when the byte before is LF
    (if (i32.and
          (i32.eq (i32.load8_u (i32.const 15)) (i32.const 10))
          (i32.and (i32.ne (local.get $len) (i32.const 0))
                   (i32.eq (i32.load8_u (i32.const 16)) (i32.const 46))))
      (then
        (i32.store8 (i32.const 65600) (i32.const 46))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))))
    ;; 64-byte blocks
    (block $tail
      (loop $big
        (br_if $tail (i32.gt_u (i32.add (local.get $i) (i32.const 64)) (local.get $end)))
        (local.set $v0 (v128.load offset=0 (local.get $i)))
        (local.set $v1 (v128.load offset=16 (local.get $i)))
        (local.set $v2 (v128.load offset=32 (local.get $i)))
        (local.set $v3 (v128.load offset=48 (local.get $i)))
        (local.set $p (i32.add (local.get $i) (local.get $d)))
        (v128.store offset=0 (local.get $p) (local.get $v0))
        (v128.store offset=16 (local.get $p) (local.get $v1))
        (v128.store offset=32 (local.get $p) (local.get $v2))
        (v128.store offset=48 (local.get $p) (local.get $v3))
        (local.set $e0 (i8x16.eq (local.get $v0) (local.get $lf)))
        (local.set $e1 (i8x16.eq (local.get $v1) (local.get $lf)))
        (local.set $e2 (i8x16.eq (local.get $v2) (local.get $lf)))
        (local.set $e3 (i8x16.eq (local.get $v3) (local.get $lf)))
        (if (v128.any_true (v128.or (v128.or (local.get $e0) (local.get $e1)) (v128.or (local.get $e2) (local.get $e3))))
          (then
            (local.set $m (i64.or
              (i64.or (i64.extend_i32_u (i8x16.bitmask (local.get $e0)))
                      (i64.shl (i64.extend_i32_u (i8x16.bitmask (local.get $e1))) (i64.const 16)))
              (i64.or (i64.shl (i64.extend_i32_u (i8x16.bitmask (local.get $e2))) (i64.const 32))
                      (i64.shl (i64.extend_i32_u (i8x16.bitmask (local.get $e3))) (i64.const 48)))))
            (loop $each_lf
              (local.set $p (i32.add (local.get $i) (i32.wrap_i64 (i64.ctz (local.get $m)))))
              (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
              ;; a bare LF: CR goes where the LF was, the rest of the block one byte on
              (if (i32.ne (i32.load8_u (i32.sub (local.get $p) (i32.const 1))) (i32.const 13))
                (then
                  (i32.store8 (i32.add (local.get $p) (local.get $d)) (i32.const 13))
                  (local.set $d (i32.add (local.get $d) (i32.const 1)))
                  (local.set $s (local.get $p))
                  (loop $shift_cr
                    (v128.store (i32.add (local.get $s) (local.get $d)) (v128.load (local.get $s)))
                    (local.set $s (i32.add (local.get $s) (i32.const 16)))
                    (br_if $shift_cr (i32.lt_u (local.get $s) (i32.add (local.get $i) (i32.const 64)))))))
              ;; a line starting with ".": one more "." after the LF, the rest one byte on
              (if (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 46))
                (then
                  (i32.store8 offset=1 (i32.add (local.get $p) (local.get $d)) (i32.const 46))
                  (local.set $d (i32.add (local.get $d) (i32.const 1)))
                  (local.set $s (i32.add (local.get $p) (i32.const 1)))
                  (loop $shift_dot
                    (v128.store (i32.add (local.get $s) (local.get $d)) (v128.load (local.get $s)))
                    (local.set $s (i32.add (local.get $s) (i32.const 16)))
                    (br_if $shift_dot (i32.lt_u (local.get $s) (i32.add (local.get $i) (i32.const 64)))))))
              (br_if $each_lf (i64.ne (local.get $m) (i64.const 0))))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $big)))
    ;; the last bytes, 16 at a time
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (local.get $i)))
        (v128.store (i32.add (local.get $i) (local.get $d)) (local.get $v))
        (local.set $m32 (i8x16.bitmask (i8x16.eq (local.get $v) (local.get $lf))))
        ;; the last, partial block: LFs in the bytes after the input do not count
        (if (i32.lt_u (i32.sub (local.get $end) (local.get $i)) (i32.const 16))
          (then
            (local.set $m32 (i32.and (local.get $m32)
              (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $i))) (i32.const 1))))))
        (block $lines
          (loop $each_tail_lf
            (br_if $lines (i32.eqz (local.get $m32)))
            (local.set $p (i32.add (local.get $i) (i32.ctz (local.get $m32))))
            (local.set $m32 (i32.and (local.get $m32) (i32.sub (local.get $m32) (i32.const 1))))
            (if (i32.ne (i32.load8_u (i32.sub (local.get $p) (i32.const 1))) (i32.const 13))
              (then
                (i32.store8 (i32.add (local.get $p) (local.get $d)) (i32.const 13))
                (local.set $d (i32.add (local.get $d) (i32.const 1)))
                (v128.store (i32.add (local.get $p) (local.get $d)) (v128.load (local.get $p)))))
            (if (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 46))
              (then
                (i32.store8 offset=1 (i32.add (local.get $p) (local.get $d)) (i32.const 46))
                (local.set $d (i32.add (local.get $d) (i32.const 1)))
                (v128.store offset=1 (i32.add (local.get $p) (local.get $d)) (v128.load offset=1 (local.get $p)))))
            (br $each_tail_lf)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $blocks)))
    ;; the output's length
    (i32.sub (i32.add (local.get $end) (local.get $d)) (i32.const 65600))))
