"""PyInstaller runtime hook: a CA bundle for HTTPS on a Linux system that has none.

The app verifies TLS with the system's trust store (``httpcore2.default_ssl_context``: OpenSSL's compiled-in
paths, then the usual distribution files; ``truststore`` on Windows and macOS), so corporate and distribution
CAs keep working. Only when a Linux system has no CA file at all (a minimal container) does the bundle fall back
to the Mozilla bundle it carries (``certifi/cacert.pem``), through ``SSL_CERT_FILE``, which ``httpcore2`` reads
first. Nothing is changed when ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` is already set.
"""


def _install_fallback_ca_bundle() -> None:
    import os
    import ssl
    import sys

    if not sys.platform.startswith("linux") or os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return
    paths = ssl.get_default_verify_paths()
    candidates = [paths.openssl_cafile, "/etc/ssl/cert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
                  "/etc/pki/tls/cert.pem", "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/ca-bundle.pem"]
    if any(c and os.path.isfile(c) for c in candidates):
        return
    if paths.openssl_capath and os.path.isdir(paths.openssl_capath) and os.listdir(paths.openssl_capath):
        return
    bundled = os.path.join(getattr(sys, "_MEIPASS", os.path.dirname(sys.executable)), "certifi", "cacert.pem")
    if os.path.isfile(bundled):
        os.environ["SSL_CERT_FILE"] = bundled


_install_fallback_ca_bundle()
del _install_fallback_ca_bundle
