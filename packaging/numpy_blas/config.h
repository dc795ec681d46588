/* lapack_lite's sources include the config.h of numpy's build; the defines it would carry come on gcc's command line (numpy_blas.py). */
