; gimp-cartoon: the two effects of the iexec-kit demo app, in Script-Fu for GIMP 2.10.
; (GIMP 2.10 on Debian 12 has no Python-Fu, so the original gimpfu procedure is rewritten here.)
; Called by entrypoint.py as:  gimp -i -n -b '(load "cartoon.scm")' -b '(iexec-gimpfu IN OUT N)' ...

; Open IN as one 8-bit RGB layer without alpha (grey/indexed -> RGB, 16-bit -> 8-bit,
; transparency flattened onto white), so that both styles start from the same pixels.
(define (iexec-open in-file)
  (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE in-file in-file))))
    (if (not (= (car (gimp-image-base-type image)) RGB))
        (gimp-image-convert-rgb image))
    (if (not (= (car (gimp-image-get-precision image)) PRECISION-U8-GAMMA))
        (gimp-image-convert-precision image PRECISION-U8-GAMMA))
    (gimp-context-set-background '(255 255 255))
    (gimp-image-flatten image)
    image))

; Save the flattened image as a PNG with no optional chunk (no time, gamma, pHYs, comment...).
(define (iexec-save image out-file)
  (let* ((layer (car (gimp-image-flatten image))))
    (file-png-save2 RUN-NONINTERACTIVE image layer out-file out-file
                    0 9 0 0 0 0 0 0 0)
    (gimp-image-delete image)))

; --style gimpfu: the original demo app's effect (POCO.md, "The original demo app").
(define (iexec-gimpfu in-file out-file n)
  (let* ((image (iexec-open in-file))
         (layer (car (gimp-image-get-active-layer image)))
         (width (car (gimp-image-width image)))
         (height (car (gimp-image-height image)))
         (dodge (car (gimp-layer-copy layer FALSE))))
    ; 1. a copy in (legacy) Dodge mode on top, inverted
    (gimp-layer-set-mode dodge LAYER-MODE-DODGE-LEGACY)
    (gimp-image-insert-layer image dodge 0 0)
    (gimp-drawable-invert dodge FALSE)
    ; 2. n times: value propagate, more black, all four directions, full range
    (let loop ((i 0))
      (if (< i n)
          (begin
            (plug-in-vpropagate RUN-NONINTERACTIVE image dodge 1 1 1.0 15 0 255)
            (loop (+ i 1)))))
    ; 3. a (229, 21, 175) layer in LCH chroma mode at 10*n % opacity, on top
    (let* ((base (car (gimp-layer-new image width height RGB-IMAGE "base"
                                      (min 100 (* 10 n)) LAYER-MODE-LCH-CHROMA))))
      (gimp-image-insert-layer image base 0 0)
      (gimp-context-set-foreground '(229 21 175))
      (gimp-drawable-fill base FILL-FOREGROUND))
    ; 4. flatten and save
    (iexec-save image out-file)))

; --style cartoon: GIMP's Cartoon filter (plug-in-cartoon, the C plug-in of GIMP 2.10).
(define (iexec-cartoon in-file out-file mask-radius pct-black)
  (let* ((image (iexec-open in-file))
         (layer (car (gimp-image-get-active-layer image))))
    (plug-in-cartoon RUN-NONINTERACTIVE image layer mask-radius pct-black)
    (iexec-save image out-file)))
