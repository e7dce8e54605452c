#!/usr/bin/env python3
"""Drive avi-sim with the official Avi Python SDK (`pip install avisdk`).

A standalone script (no pytest): plain asserts with clear messages, one line per step,
exit status 0 on success. `crates/avi-sim/tests/sdk.rs` starts the emulator with TLS, writes
the emulator's CA and an Istio-style certificate set to a temporary directory, and runs it:

    python3 test_avisdk.py --controller 127.0.0.1 --port 8443 --ca-file ca.pem \
        --certs-dir DIR [--username admin] [--api-version 22.1.3]

Every option can also come from the environment (AVI_CONTROLLER, AVI_PORT, AVI_CA_FILE,
AVI_CERTS_DIR, AVI_USERNAME, AVI_PASSWORD, AVI_API_VERSION); the password is read from
AVI_PASSWORD only (default avi123) so that it does not show in the process list.
DIR holds `root-cert.pem`, `cert-chain.pem` and `key.pem` (istio-agent's OUTPUT_CERTS names).

The emulator's admin endpoint `POST /_sim/sessions/expire` is the control channel: the script
ends every session itself in the middle of the run, then makes normal SDK calls that must
succeed thanks to the SDK's re-login on 401/419.

Final state left on the controller (checked by sdk.rs): tenant `sdk-tenant` holding the
sslkeyandcertificate `sdk-tenant-kc` and the pool `sdk-tenant-pool` that refers to it; no
`sdk-*` object in the admin tenant.
"""

import argparse
import os
import sys

# Python requests lets these override a session's `verify`, and the SDK passes `verify=` only
# on /login: with them set, every call after login would be checked against the machine's
# bundle instead of the emulator's CA. The SDK session gets the CA explicitly below.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)

try:
    import requests
    from avi.sdk.avi_api import APIError, ApiSession, AviServerError, ObjectNotFound
except ImportError as _err:  # pragma: no cover - exercised when the SDK is missing
    print(
        "FATAL: cannot import the Avi SDK (%s): run `python3 -m pip install avisdk`" % _err,
        file=sys.stderr,
    )
    sys.exit(3)

PKI = "sdk-pki"
KC = "sdk-kc"
POOL = "sdk-pool"
TENANT = "sdk-tenant"
TENANT_POOL = "sdk-tenant-pool"
TENANT_KC = "sdk-tenant-kc"
TENANT_SCRATCH = "sdk-tenant-scratch"
SSL_PROFILE_REF = "/api/sslprofile?name=System-Standard"

_step = 0


def step(msg):
    global _step
    _step += 1
    print("ok %2d - %s" % (_step, msg), flush=True)


def check(cond, msg, *context):
    if not cond:
        detail = "".join("\n    " + str(c)[:2000] for c in context)
        raise AssertionError(msg + detail)


def expect_status(rsp, status, what):
    check(
        rsp.status_code == status,
        "%s: expected HTTP %d, got %d" % (what, status, rsp.status_code),
        rsp.text,
    )
    return rsp


def slug(ref):
    """The uuid at the end of a ref URL, without `#name`."""
    return ref.split("?")[0].rstrip("/").rsplit("/", 1)[-1].split("#")[0]


def parse_args():
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--controller", default=env("AVI_CONTROLLER", "127.0.0.1"))
    p.add_argument("--port", type=int, default=env("AVI_PORT"))
    p.add_argument("--ca-file", default=env("AVI_CA_FILE"),
                   help="the emulator's self-signed certificate (verify=False when absent)")
    p.add_argument("--certs-dir", default=env("AVI_CERTS_DIR"))
    p.add_argument("--username", default=env("AVI_USERNAME", "admin"))
    p.add_argument("--api-version", default=env("AVI_API_VERSION"))
    args = p.parse_args()
    args.password = env("AVI_PASSWORD", "avi123")
    if args.port is None or not args.certs_dir:
        p.error("--port and --certs-dir (or AVI_PORT and AVI_CERTS_DIR) are required")
    return args


def read(directory, name):
    with open(os.path.join(directory, name), encoding="utf-8") as f:
        return f.read()


class Sim(object):
    """The emulator's /_sim admin endpoints (no auth), outside the SDK session."""

    def __init__(self, base, verify):
        self.base = base
        self.verify = verify

    def expire_sessions(self):
        rsp = requests.post(self.base + "/_sim/sessions/expire", verify=self.verify, timeout=10)
        expect_status(rsp, 200, "POST /_sim/sessions/expire")
        return rsp.json()["expired"]


def main():
    args = parse_args()
    verify = args.ca_file if args.ca_file else False
    base = "https://%s:%d" % (args.controller, args.port)
    sim = Sim(base, verify)
    root_pem = read(args.certs_dir, "root-cert.pem")
    chain_pem = read(args.certs_dir, "cert-chain.pem")
    key_pem = read(args.certs_dir, "key.pem")

    def session(tenant="admin", password=None, api_version=args.api_version):
        return ApiSession(
            controller_ip=args.controller,
            username=args.username,
            password=args.password if password is None else password,
            port=args.port,
            tenant=tenant,
            verify=verify,
            api_version=api_version,
        )

    # ------------------------------------------------------------------ login
    try:
        session(password="not-the-password")
        raise AssertionError("login with a wrong password must raise APIError")
    except APIError as e:
        check(e.rsp is not None and e.rsp.status_code == 401,
              "wrong password: expected 401", getattr(e.rsp, "text", e))
    step("login with a wrong password raises APIError (401)")

    api = session()
    check(api.prefix == base, "SDK prefix %r != %r" % (api.prefix, base))
    version = api.remote_api_version
    check(version.get("Version"), "login answer has no version", version)
    ctx = api.get_context()
    check(ctx["csrftoken"] and ctx["session_id"], "no CSRF token / session id after login", ctx)
    step("ApiSession logged in over HTTPS (controller %s, verify=%s)"
         % (version.get("Version"), "CA file" if verify else "False"))

    # ------------------------------------------------------------------ pkiprofile
    rsp = expect_status(api.post("pkiprofile", data={
        "name": PKI, "crl_check": False, "ca_certs": [{"certificate": root_pem}],
    }), 201, "POST pkiprofile")
    pki = rsp.json()
    pki_uuid = api.get_obj_uuid(pki)
    check(pki_uuid.startswith("pkiprofile-"), "pkiprofile uuid %r" % pki_uuid)
    ca = pki["ca_certs"][0]
    check(ca.get("subject", {}).get("organization") == "cluster.local",
          "ca_certs[0] not parsed (subject.organization)", ca)
    check(str(ca.get("fingerprint", "")).startswith("SHA1 Fingerprint="),
          "ca_certs[0].fingerprint", ca.get("fingerprint"))
    check(pki["url"].startswith(base + "/api/pkiprofile/" + pki_uuid), "pkiprofile url", pki["url"])
    step("created pkiprofile %s with a real root CA (parsed subject/fingerprint)" % PKI)

    # ------------------------------------------------------------------ sslkeyandcertificate
    rsp = expect_status(api.post("sslkeyandcertificate", data={
        "name": KC, "type": "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE",
        "certificate": {"certificate": chain_pem}, "key": key_pem,
    }), 201, "POST sslkeyandcertificate")
    kc = rsp.json()
    kc_uuid = api.get_obj_uuid(kc)
    check("key" not in kc, "POST answer must not carry the key", sorted(kc))
    check("PRIVATE KEY" not in rsp.text, "POST answer leaks the private key")
    check(kc.get("key_params", {}).get("algorithm") == "SSL_KEY_ALGORITHM_EC",
          "key_params.algorithm", kc.get("key_params"))
    # A 24 h workload certificate: GOOD or EXPIRY_WARNING (the warning threshold is 30 days).
    check(kc["certificate"].get("expiry_status")
          in ("SSL_CERTIFICATE_GOOD", "SSL_CERTIFICATE_EXPIRY_WARNING"),
          "certificate.expiry_status", kc["certificate"].get("expiry_status"))
    step("created sslkeyandcertificate %s from a real ECDSA cert + key" % KC)

    # ------------------------------------------------------------------ pool referring to both
    rsp = expect_status(api.post("pool", data={
        "name": POOL,
        "default_server_port": 8443,
        "servers": [{"ip": {"addr": "10.0.0.1", "type": "V4"}}],
        "pki_profile_ref": "/api/pkiprofile?name=" + PKI,
        "ssl_key_and_certificate_ref": "/api/sslkeyandcertificate?name=" + KC,
        "ssl_profile_ref": SSL_PROFILE_REF,
    }), 201, "POST pool")
    pool = rsp.json()
    pool_uuid = api.get_obj_uuid(pool)
    check(pool["pki_profile_ref"] == "%s/api/pkiprofile/%s#%s" % (base, pki_uuid, PKI),
          "POST answer: pki_profile_ref not resolved to url#name", pool["pki_profile_ref"])
    check(slug(pool["ssl_key_and_certificate_ref"]) == kc_uuid,
          "ssl_key_and_certificate_ref", pool["ssl_key_and_certificate_ref"])
    check(pool["ssl_profile_ref"].endswith("#System-Standard"), "ssl_profile_ref",
          pool["ssl_profile_ref"])
    check(pool["tenant_ref"].endswith("/api/tenant/admin#admin"), "tenant_ref", pool["tenant_ref"])
    step("created pool %s referring to both by name (+ sslprofile System-Standard)" % POOL)

    # ------------------------------------------------------------------ get_object_by_name
    got = api.get_object_by_name("pool", POOL)
    check(got is not None, "get_object_by_name(pool, %s) returned None" % POOL)
    check(api.get_obj_uuid(got) == pool_uuid, "uuid mismatch", got.get("uuid"))
    check(got["pki_profile_ref"] == "%s/api/pkiprofile/%s" % (base, pki_uuid),
          "GET refs carry no #name without include_name", got["pki_profile_ref"])
    named = api.get_object_by_name("pool", POOL, params={"include_name": "true"})
    check(named["pki_profile_ref"].endswith("#" + PKI), "include_name", named["pki_profile_ref"])
    check(api.get_object_by_name("pool", "sdk-no-such-pool") is None,
          "get_object_by_name of a missing name must return None")
    names = [o["name"] for o in api.get_objects_iter("pool", params={"page_size": 1})]
    check(POOL in names, "get_objects_iter(pool) misses %s" % POOL, names)
    step("get_object_by_name / include_name / missing name -> None / get_objects_iter")

    # ------------------------------------------------------------------ update: GET -> modify -> PUT
    obj = api.get("pool/" + pool_uuid).json()
    before = obj["_last_modified"]
    obj["description"] = "updated by avisdk"
    obj["lb_algorithm"] = "LB_ALGORITHM_ROUND_ROBIN"
    obj["servers"].append({"ip": {"addr": "10.0.0.2", "type": "V4"}, "port": 9443})
    rsp = expect_status(api.put("pool/" + pool_uuid, data=obj), 200, "PUT pool")
    put = rsp.json()
    check(put["_last_modified"] != before, "_last_modified unchanged by PUT")
    again = api.get("pool/" + pool_uuid).json()
    check(again["description"] == "updated by avisdk", "description not stored", again)
    check(again["lb_algorithm"] == "LB_ALGORITHM_ROUND_ROBIN", "lb_algorithm not stored")
    check(len(again["servers"]) == 2, "servers after PUT", again["servers"])
    check(slug(again["pki_profile_ref"]) == pki_uuid, "PUT lost pki_profile_ref", again)
    rsp = expect_status(api.patch("pool/" + pool_uuid, data={
        "add": {"servers": [{"ip": {"addr": "10.0.0.3", "type": "V4"}}]},
    }), 200, "PATCH pool")
    check(len(rsp.json()["servers"]) == 3, "PATCH add servers", rsp.json()["servers"])
    step("updated pool: GET -> modify -> put (200, fields kept), then patch add")

    # ------------------------------------------------------------------ the key is never returned
    rsp = expect_status(api.get("sslkeyandcertificate/" + kc_uuid), 200, "GET sslkeyandcertificate")
    kc_obj = rsp.json()
    check(kc_obj.get("key") == "<sensitive>", 'GET must show "key": "<sensitive>"', kc_obj.get("key"))
    check("PRIVATE KEY" not in rsp.text, "GET leaks the private key")
    check("BEGIN CERTIFICATE" in kc_obj["certificate"]["certificate"], "GET has no certificate PEM")
    listed = api.get_object_by_name("sslkeyandcertificate", KC)
    check(listed.get("key") == "<sensitive>", "list must show <sensitive>", listed.get("key"))
    # GET -> PUT echoing "<sensitive>" keeps the stored key.
    rsp = expect_status(api.put("sslkeyandcertificate/" + kc_uuid, data=kc_obj), 200,
                        "PUT sslkeyandcertificate echoing <sensitive>")
    check("PRIVATE KEY" not in rsp.text, "PUT answer leaks the private key")
    check(api.get("sslkeyandcertificate/" + kc_uuid).json().get("key") == "<sensitive>",
          "key lost after PUT echoing <sensitive>")
    step('key never returned: POST omits it, GET/list show "<sensitive>", PUT echo accepted')

    # ------------------------------------------------------------------ delete in use refused
    for path, what in (("pkiprofile/" + pki_uuid, "pkiprofile"),
                       ("sslkeyandcertificate/" + kc_uuid, "sslkeyandcertificate")):
        rsp = expect_status(api.delete(path), 403, "DELETE %s in use" % what)
        err = rsp.text
        check("Cannot delete, object is referred by" in err, "in-use delete message", err)
        check("Pool %s" % POOL in err, "in-use delete message names the pool", err)
        try:
            rsp.json()
            raise AssertionError("ApiResponse.json() on 403 must raise APIError")
        except (ObjectNotFound, AviServerError) as e:
            raise AssertionError("403 must be a plain APIError, got %r" % e)
        except APIError:
            pass
    try:
        api.delete_by_name("pkiprofile", PKI).json()
        raise AssertionError("delete_by_name of an in-use pkiprofile must fail")
    except APIError as e:
        check("Cannot delete, object is referred by" in str(e), "delete_by_name message", e)
    step("deleting pkiprofile / sslkeyandcertificate in use -> 403 'Cannot delete, object is "
         "referred by: [...Pool %s]'" % POOL)

    # ------------------------------------------------------------------ session expiry, re-login
    old_sid = api.get_context()["session_id"]
    n = sim.expire_sessions()
    check(n >= 1, "expected at least one live session to expire, got %d" % n)
    got = api.get_object_by_name("pool", POOL)
    check(got is not None and api.get_obj_uuid(got) == pool_uuid,
          "GET after expiry did not succeed through the SDK's re-login", got)
    new_sid = api.get_context()["session_id"]
    check(new_sid != old_sid, "the SDK did not log in again (same session id)")
    step("sessions expired via /_sim (%d); get_object_by_name succeeded after SDK re-login" % n)

    n = sim.expire_sessions()
    check(n >= 1, "expected the re-logged-in session to expire, got %d" % n)
    rsp = expect_status(api.patch("pool/" + pool_uuid, data={
        "replace": {"description": "written after a re-login"},
    }), 200, "PATCH pool after expiry (new session and CSRF token)")
    check(rsp.json()["description"] == "written after a re-login", "PATCH after re-login")
    step("sessions expired again; a write succeeded after re-login with the new CSRF token")

    # ------------------------------------------------------------------ delete in the right order
    expect_status(api.delete("pool/" + pool_uuid), 204, "DELETE pool")
    expect_status(api.delete_by_name("sslkeyandcertificate", KC), 204,
                  "DELETE sslkeyandcertificate (no longer referred)")
    expect_status(api.delete("pkiprofile/" + pki_uuid), 204, "DELETE pkiprofile")
    for ty, name, uuid in (("pool", POOL, pool_uuid), ("sslkeyandcertificate", KC, kc_uuid),
                           ("pkiprofile", PKI, pki_uuid)):
        check(api.get_object_by_name(ty, name) is None, "%s %s still listed" % (ty, name))
        try:
            api.get("%s/%s" % (ty, uuid)).json()
            raise AssertionError("GET of deleted %s must raise ObjectNotFound" % ty)
        except ObjectNotFound:
            pass
    rsp = expect_status(api.delete("pool/" + pool_uuid), 404, "DELETE of a deleted pool")
    step("deleted pool, then sslkeyandcertificate, then pkiprofile (204); GET -> ObjectNotFound")

    # ------------------------------------------------------------------ tenants
    rsp = expect_status(api.post("tenant", data={"name": TENANT, "local": True}), 201,
                        "POST tenant")
    tenant_uuid = api.get_obj_uuid(rsp.json())
    step("created tenant %s (%s)" % (TENANT, tenant_uuid))

    # Per call: tenant= on an admin session.
    rsp = expect_status(api.post("pool", data={"name": TENANT_SCRATCH}, tenant=TENANT), 201,
                        "POST pool with tenant=")
    scratch = rsp.json()
    check(slug(scratch["tenant_ref"]) == tenant_uuid, "per-call tenant: tenant_ref",
          scratch["tenant_ref"])
    check(api.get_object_by_name("pool", TENANT_SCRATCH) is None,
          "a pool of %s is visible from admin" % TENANT)
    check(api.get_object_by_name("pool", TENANT_SCRATCH, tenant=TENANT) is not None,
          "pool invisible with tenant=%s" % TENANT)
    check(api.get_object_by_name("pool", TENANT_SCRATCH, tenant_uuid=tenant_uuid) is not None,
          "pool invisible with tenant_uuid=%s" % tenant_uuid)
    everywhere = [o["name"] for o in api.get("pool", tenant="*").json()["results"]]
    check(TENANT_SCRATCH in everywhere, "tenant='*' must list every tenant", everywhere)
    rsp = api.get("pool", tenant="sdk-no-such-tenant")
    check(rsp.status_code == 403 and "does not exist" in rsp.text,
          "unknown tenant: expected 403 'Tenant ... does not exist!'", rsp.status_code, rsp.text)
    step("tenant= per call: created in %s, invisible from admin, visible with tenant/tenant_uuid/*"
         % TENANT)

    # A session for the tenant (the SDK's default api_version: no X-Avi-Version header).
    tapi = session(tenant=TENANT, api_version=None)
    check(tapi.get_object_by_name("pool", TENANT_SCRATCH) is not None,
          "tenant session does not see its pool")
    rsp = expect_status(tapi.post("sslkeyandcertificate", data={
        "name": TENANT_KC, "certificate": {"certificate": chain_pem}, "key": key_pem,
    }), 201, "POST sslkeyandcertificate in the tenant session")
    tkc_uuid = tapi.get_obj_uuid(rsp.json())
    rsp = expect_status(tapi.post("pool", data={
        "name": TENANT_POOL,
        "ssl_key_and_certificate_ref": "/api/sslkeyandcertificate?name=" + TENANT_KC,
        "ssl_profile_ref": SSL_PROFILE_REF,
    }), 201, "POST pool in the tenant session")
    tpool = rsp.json()
    check(slug(tpool["tenant_ref"]) == tenant_uuid, "tenant session: tenant_ref", tpool)
    check(slug(tpool["ssl_key_and_certificate_ref"]) == tkc_uuid,
          "tenant-local name ref", tpool["ssl_key_and_certificate_ref"])
    check(tpool["ssl_profile_ref"].endswith("#System-Standard"),
          "admin's System-Standard is shared with tenants", tpool["ssl_profile_ref"])
    for ty, name in (("pool", TENANT_POOL), ("sslkeyandcertificate", TENANT_KC)):
        check(api.get_object_by_name(ty, name) is None, "%s %s visible from admin" % (ty, name))
    # Names are unique per tenant, not globally.
    rsp = expect_status(api.post("pool", data={"name": TENANT_POOL}), 201,
                        "POST admin pool with a name used in another tenant")
    admin_twin = api.get_obj_uuid(rsp.json())
    rsp = tapi.post("pool", data={"name": TENANT_POOL})
    check(rsp.status_code == 409 and "already exists" in rsp.text,
          "duplicate name in one tenant: expected 409 '... already exists'",
          rsp.status_code, rsp.text)
    # GET -> PUT in the tenant, echoing "<sensitive>".
    tkc = tapi.get("sslkeyandcertificate/" + tkc_uuid).json()
    check(tkc.get("key") == "<sensitive>", "tenant GET key", tkc.get("key"))
    expect_status(tapi.put("sslkeyandcertificate/" + tkc_uuid, data=tkc), 200,
                  "PUT tenant sslkeyandcertificate echoing <sensitive>")
    step("tenant session: kc + pool in %s (tenant-local ref, shared System-Standard), "
         "invisible from admin; same name in admin ok; duplicate in tenant -> 409" % TENANT)

    # Both sessions die; both log in again by themselves.
    n = sim.expire_sessions()
    check(n >= 2, "expected the admin and tenant sessions to expire, got %d" % n)
    check(tapi.get_object_by_name("pool", TENANT_POOL) is not None,
          "tenant session: GET after expiry")
    expect_status(tapi.delete_by_name("pool", TENANT_SCRATCH), 204,
                  "tenant session: DELETE after re-login")
    expect_status(api.delete("pool/" + admin_twin), 204, "admin session: DELETE after expiry")
    step("sessions expired (%d); tenant and admin sessions both re-logged in and wrote" % n)

    rsp = expect_status(api.get("pool", params={"name.contains": "sdk-"}), 200, "GET pool")
    check(rsp.json()["count"] == 0, "admin tenant still has sdk-* pools", rsp.text)
    step("final state: admin has no sdk-* pools; %s keeps %s and %s"
         % (TENANT, TENANT_KC, TENANT_POOL))
    print("PASS: %d steps" % _step, flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("FAIL at step %d: %s" % (_step + 1, e), file=sys.stderr, flush=True)
        sys.exit(1)
