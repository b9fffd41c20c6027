/* Transcendentals in plain arithmetic, so that the compiler can vectorize the loops that
 * call them (a libm call per element cannot be). Internal to the runtime. */
#ifndef MCR_FASTMATH_H
#define MCR_FASTMATH_H

/* erf(x) as x * P(x^2) / Q(x^2) on [-4, 4] (Eigen's float coefficients); beyond, erf is
 * +/-1 in float. Measured against erf in double over [-6, 6] (tests/runtime,
 * test_erf_error_bound): max |error| 4.5e-7, i.e. at most 8 ULP near |x| = 3.2 where
 * erf is within 1e-5 of 1, and a few ULP elsewhere. */
static inline float mcr_erf(float a)
{
    const float x = a < -4.0f ? -4.0f : (a > 4.0f ? 4.0f : a);
    const float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return x * p / q;
}
#endif
