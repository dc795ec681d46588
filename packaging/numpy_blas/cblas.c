/* The CBLAS routines numpy's _multiarray_umath calls (matmul, dot, vdot, A @ A.T), on numpy's own f2c BLAS.
 *
 * numpy's wheel links them from OpenBLAS (25 MB with its Fortran runtime); this library stands in for it in the
 * frozen build (packaging/numpy_blas.py). Row-major calls become column-major ones on the transposed problem, as
 * the reference CBLAS does; the complex symmetric rank-k update, which the reference BLAS numpy carries lacks, is
 * a plain loop.
 */
#include <stdlib.h>
#include <string.h>

#include "f2c.h"

#define TR(t) ((t) == CblasNoTrans ? "N" : (t) == CblasTrans ? "T" : "C")
#define FLIP(t) ((t) == CblasNoTrans ? "T" : "N")  /* for real syrk and gemv: C means T */
#define UPLO_FLIP(u) ((u) == CblasUpper ? "L" : "U")
#define UPLO(u) ((u) == CblasUpper ? "U" : "L")

int sgemm_(char *, char *, integer *, integer *, integer *, real *, real *, integer *, real *, integer *, real *,
           real *, integer *);
int dgemm_(char *, char *, integer *, integer *, integer *, doublereal *, doublereal *, integer *, doublereal *,
           integer *, doublereal *, doublereal *, integer *);
int cgemm_(char *, char *, integer *, integer *, integer *, singlecomplex *, singlecomplex *, integer *,
           singlecomplex *, integer *, singlecomplex *, singlecomplex *, integer *);
int zgemm_(char *, char *, integer *, integer *, integer *, doublecomplex *, doublecomplex *, integer *,
           doublecomplex *, integer *, doublecomplex *, doublecomplex *, integer *);
int sgemv_(char *, integer *, integer *, real *, real *, integer *, real *, integer *, real *, real *, integer *);
int dgemv_(char *, integer *, integer *, doublereal *, doublereal *, integer *, doublereal *, integer *,
           doublereal *, doublereal *, integer *);
int cgemv_(char *, integer *, integer *, singlecomplex *, singlecomplex *, integer *, singlecomplex *, integer *,
           singlecomplex *, singlecomplex *, integer *);
int zgemv_(char *, integer *, integer *, doublecomplex *, doublecomplex *, integer *, doublecomplex *, integer *,
           doublecomplex *, doublecomplex *, integer *);
int ssyrk_(char *, char *, integer *, integer *, real *, real *, integer *, real *, real *, integer *);
int dsyrk_(char *, char *, integer *, integer *, doublereal *, doublereal *, integer *, doublereal *,
           doublereal *, integer *);
int saxpy_(integer *, real *, real *, integer *, real *, integer *);
int daxpy_(integer *, doublereal *, doublereal *, integer *, doublereal *, integer *);
int caxpy_(integer *, singlecomplex *, singlecomplex *, integer *, singlecomplex *, integer *);
int zaxpy_(integer *, doublecomplex *, doublecomplex *, integer *, doublecomplex *, integer *);
doublereal sdot_(integer *, real *, integer *, real *, integer *);
doublereal ddot_(integer *, doublereal *, integer *, doublereal *, integer *);
void cdotu_(singlecomplex *, integer *, singlecomplex *, integer *, singlecomplex *, integer *);
void cdotc_(singlecomplex *, integer *, singlecomplex *, integer *, singlecomplex *, integer *);
void zdotu_(doublecomplex *, integer *, doublecomplex *, integer *, doublecomplex *, integer *);
void zdotc_(doublecomplex *, integer *, doublecomplex *, integer *, doublecomplex *, integer *);

/* LAPACK's error handler. numpy's extension modules define their own (a Python ValueError) but do not export it,
 * so this one answers like OpenBLAS's: a line on stderr, and the routine returns with info < 0. */
int xerbla_(char *srname, integer *info)
{
    int len = 0;
    while (len < 6 && srname[len] != '\0' && srname[len] != ' ')
        len++;
    fprintf(stderr, " ** On entry to %.*s parameter number %d had an illegal value\n", len, srname, (int)*info);
    return 0;
}

#define GEMM(P, T, PTR)                                                                                         \
    void CBLAS_FUNC(cblas_##P##gemm)(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta,             \
                                     const enum CBLAS_TRANSPOSE tb, const CBLAS_INT m, const CBLAS_INT n,      \
                                     const CBLAS_INT k, ALPHA(T) alpha, const PTR a, const CBLAS_INT lda,    \
                                     const PTR b, const CBLAS_INT ldb, ALPHA(T) beta, PTR c,                  \
                                     const CBLAS_INT ldc)                                                     \
    {                                                                                                           \
        integer M = m, N = n, K = k, LDA = lda, LDB = ldb, LDC = ldc;                                           \
        T al = DEREF(T, alpha), be = DEREF(T, beta);                                                           \
        if (order == CblasColMajor)                                                                             \
            P##gemm_(TR(ta), TR(tb), &M, &N, &K, &al, (T *)a, &LDA, (T *)b, &LDB, &be, c, &LDC);              \
        else /* C' = op(B)' op(A)' */                                                                          \
            P##gemm_(TR(tb), TR(ta), &N, &M, &K, &al, (T *)b, &LDB, (T *)a, &LDA, &be, c, &LDC);              \
    }

/* Real routines take alpha and beta by value, complex ones by pointer. */
#define ALPHA_real(T) const T
#define DEREF_real(T, x) (x)
#define ALPHA_cplx(T) const void *
#define DEREF_cplx(T, x) (*(const T *)(x))

#define ALPHA ALPHA_real
#define DEREF DEREF_real
GEMM(s, real, real *)
GEMM(d, doublereal, doublereal *)
#undef ALPHA
#undef DEREF
#define ALPHA ALPHA_cplx
#define DEREF DEREF_cplx
GEMM(c, singlecomplex, void *)
GEMM(z, doublecomplex, void *)
#undef ALPHA
#undef DEREF

#define GEMV_REAL(P, T)                                                                                         \
    void CBLAS_FUNC(cblas_##P##gemv)(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta,             \
                                     const CBLAS_INT m, const CBLAS_INT n, const T alpha, const T *a,          \
                                     const CBLAS_INT lda, const T *x, const CBLAS_INT incx, const T beta,      \
                                     T *y, const CBLAS_INT incy)                                              \
    {                                                                                                           \
        integer M = m, N = n, LDA = lda, IX = incx, IY = incy;                                                  \
        T al = alpha, be = beta;                                                                               \
        if (order == CblasColMajor)                                                                             \
            P##gemv_(ta == CblasNoTrans ? "N" : "T", &M, &N, &al, (T *)a, &LDA, (T *)x, &IX, &be, y, &IY);    \
        else                                                                                                    \
            P##gemv_(FLIP(ta), &N, &M, &al, (T *)a, &LDA, (T *)x, &IX, &be, y, &IY);                          \
    }
GEMV_REAL(s, real)
GEMV_REAL(d, doublereal)

/* Row-major A^H x has no column-major counterpart in BLAS (conjugate without transposing): the reference CBLAS
 * computes conj(y) = conj(alpha) A' conj(x) + conj(beta) conj(y) instead, and so does this. */
#define GEMV_CPLX(P, T, R)                                                                                      \
    static void P##conj(CBLAS_INT n, T *v, CBLAS_INT inc)                                                      \
    {                                                                                                           \
        CBLAS_INT i, step = inc < 0 ? -inc : inc;                                                              \
        for (i = 0; i < n; i++)                                                                                 \
            v[i * step].i = -v[i * step].i;                                                                     \
    }                                                                                                           \
    void CBLAS_FUNC(cblas_##P##gemv)(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta,             \
                                     const CBLAS_INT m, const CBLAS_INT n, const void *alpha, const void *a,   \
                                     const CBLAS_INT lda, const void *x, const CBLAS_INT incx,                 \
                                     const void *beta, void *y, const CBLAS_INT incy)                          \
    {                                                                                                           \
        integer M = m, N = n, LDA = lda, IX = incx, IY = incy, ONE = 1;                                         \
        T al = *(const T *)alpha, be = *(const T *)beta;                                                       \
        if (order == CblasColMajor) {                                                                           \
            P##gemv_(TR(ta), &M, &N, &al, (T *)a, &LDA, (T *)x, &IX, &be, y, &IY);                             \
        } else if (ta != CblasConjTrans) {                                                                      \
            P##gemv_(FLIP(ta), &N, &M, &al, (T *)a, &LDA, (T *)x, &IX, &be, y, &IY);                           \
        } else {                                                                                                \
            T *xc = malloc((m > 0 ? m : 1) * sizeof(T));                                                       \
            CBLAS_INT i, step = incx < 0 ? -incx : incx;                                                       \
            if (xc == NULL) {                                                                                   \
                fputs(" ** cblas_" #P "gemv: out of memory\n", stderr);                                         \
                return;                                                                                         \
            }                                                                                                   \
            /* x is read backwards for a negative increment, as BLAS does */                                   \
            for (i = 0; i < m; i++) {                                                                           \
                const T *xi = (const T *)x + (incx < 0 ? (m - 1 - i) : i) * step;                             \
                xc[i].r = xi->r;                                                                                \
                xc[i].i = -xi->i;                                                                               \
            }                                                                                                   \
            al.i = -al.i;                                                                                       \
            be.i = -be.i;                                                                                       \
            P##conj(n, y, incy);                                                                                \
            P##gemv_("N", &N, &M, &al, (T *)a, &LDA, xc, &ONE, &be, y, &IY);                                   \
            P##conj(n, y, incy);                                                                                \
            free(xc);                                                                                           \
        }                                                                                                       \
    }
GEMV_CPLX(c, singlecomplex, real)
GEMV_CPLX(z, doublecomplex, doublereal)

#define SYRK_REAL(P, T)                                                                                         \
    void CBLAS_FUNC(cblas_##P##syrk)(const enum CBLAS_ORDER order, const enum CBLAS_UPLO uplo,                \
                                     const enum CBLAS_TRANSPOSE trans, const CBLAS_INT n, const CBLAS_INT k,   \
                                     const T alpha, const T *a, const CBLAS_INT lda, const T beta, T *c,       \
                                     const CBLAS_INT ldc)                                                      \
    {                                                                                                           \
        integer N = n, K = k, LDA = lda, LDC = ldc;                                                             \
        T al = alpha, be = beta;                                                                               \
        if (order == CblasColMajor)                                                                             \
            P##syrk_(UPLO(uplo), trans == CblasNoTrans ? "N" : "T", &N, &K, &al, (T *)a, &LDA, &be, c, &LDC);  \
        else                                                                                                    \
            P##syrk_(UPLO_FLIP(uplo), FLIP(trans), &N, &K, &al, (T *)a, &LDA, &be, c, &LDC);                  \
    }
SYRK_REAL(s, real)
SYRK_REAL(d, doublereal)

/* C := alpha op(A) op(A)' + beta C on one triangle (no conjugation: symmetric, not Hermitian). */
#define SYRK_CPLX(P, T, R)                                                                                      \
    void CBLAS_FUNC(cblas_##P##syrk)(const enum CBLAS_ORDER order, const enum CBLAS_UPLO uplo,                \
                                     const enum CBLAS_TRANSPOSE trans, const CBLAS_INT n, const CBLAS_INT k,   \
                                     const void *alpha, const void *av, const CBLAS_INT lda, const void *beta, \
                                     void *cv, const CBLAS_INT ldc)                                            \
    {                                                                                                           \
        const T *a = av, al = *(const T *)alpha, be = *(const T *)beta;                                        \
        T *c = cv;                                                                                              \
        /* element (i, l) of op(A), n x k, and (i, j) of C, whatever the order */                              \
        int row = order == CblasRowMajor, notrans = trans == CblasNoTrans;                                      \
        CBLAS_INT i, j, l;                                                                                     \
        for (i = 0; i < n; i++) {                                                                               \
            CBLAS_INT from = uplo == CblasUpper ? i : 0, to = uplo == CblasUpper ? n : i + 1;                  \
            for (j = from; j < to; j++) {                                                                       \
                R sr = 0, si = 0;                                                                               \
                T *cij = row ? &c[i * ldc + j] : &c[i + j * ldc];                                              \
                for (l = 0; l < k; l++) {                                                                       \
                    const T *x = (row == notrans) ? &a[i * lda + l] : &a[i + l * lda];                         \
                    const T *y = (row == notrans) ? &a[j * lda + l] : &a[j + l * lda];                         \
                    sr += x->r * y->r - x->i * y->i;                                                            \
                    si += x->r * y->i + x->i * y->r;                                                            \
                }                                                                                               \
                R ur = al.r * sr - al.i * si, ui = al.r * si + al.i * sr;                                       \
                if (be.r != 0 || be.i != 0) { /* beta 0: C is not read (it may hold NaN), as in BLAS */        \
                    R cr = cij->r, ci = cij->i;                                                                 \
                    ur += be.r * cr - be.i * ci;                                                                \
                    ui += be.r * ci + be.i * cr;                                                                \
                }                                                                                               \
                cij->r = ur;                                                                                    \
                cij->i = ui;                                                                                    \
            }                                                                                                   \
        }                                                                                                       \
    }
SYRK_CPLX(c, singlecomplex, real)
SYRK_CPLX(z, doublecomplex, doublereal)

void CBLAS_FUNC(cblas_saxpy)(const CBLAS_INT n, const float alpha, const float *x, const CBLAS_INT incx, float *y,
                             const CBLAS_INT incy)
{
    integer N = n, IX = incx, IY = incy;
    real al = alpha;
    saxpy_(&N, &al, (real *)x, &IX, y, &IY);
}

void CBLAS_FUNC(cblas_daxpy)(const CBLAS_INT n, const double alpha, const double *x, const CBLAS_INT incx,
                             double *y, const CBLAS_INT incy)
{
    integer N = n, IX = incx, IY = incy;
    doublereal al = alpha;
    daxpy_(&N, &al, (doublereal *)x, &IX, y, &IY);
}

void CBLAS_FUNC(cblas_caxpy)(const CBLAS_INT n, const void *alpha, const void *x, const CBLAS_INT incx, void *y,
                             const CBLAS_INT incy)
{
    integer N = n, IX = incx, IY = incy;
    caxpy_(&N, (singlecomplex *)alpha, (singlecomplex *)x, &IX, y, &IY);
}

void CBLAS_FUNC(cblas_zaxpy)(const CBLAS_INT n, const void *alpha, const void *x, const CBLAS_INT incx, void *y,
                             const CBLAS_INT incy)
{
    integer N = n, IX = incx, IY = incy;
    zaxpy_(&N, (doublecomplex *)alpha, (doublecomplex *)x, &IX, y, &IY);
}

float CBLAS_FUNC(cblas_sdot)(const CBLAS_INT n, const float *x, const CBLAS_INT incx, const float *y,
                             const CBLAS_INT incy)
{
    integer N = n, IX = incx, IY = incy;
    return (float)sdot_(&N, (real *)x, &IX, (real *)y, &IY);
}

double CBLAS_FUNC(cblas_ddot)(const CBLAS_INT n, const double *x, const CBLAS_INT incx, const double *y,
                              const CBLAS_INT incy)
{
    integer N = n, IX = incx, IY = incy;
    return ddot_(&N, (doublereal *)x, &IX, (doublereal *)y, &IY);
}

#define DOT_SUB(P, KIND, T)                                                                                     \
    void CBLAS_FUNC(cblas_##P##dot##KIND##_sub)(const CBLAS_INT n, const void *x, const CBLAS_INT incx,       \
                                                const void *y, const CBLAS_INT incy, void *out)               \
    {                                                                                                           \
        integer N = n, IX = incx, IY = incy;                                                                    \
        P##dot##KIND##_((T *)out, &N, (T *)x, &IX, (T *)y, &IY);                                               \
    }
DOT_SUB(c, u, singlecomplex)
DOT_SUB(c, c, singlecomplex)
DOT_SUB(z, u, doublecomplex)
DOT_SUB(z, c, doublecomplex)
