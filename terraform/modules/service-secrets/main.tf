# Every Secret value the fleet needs, one map of environment variables per service (the
# keys docs/deploy.md lists): database URLs, the broker and Redis URLs, object-store
# credentials, content's URL-signing key, each service's Ed25519 identity key and, with
# the local KEK provider, the key-encryption keys. The cloud modules deliver the maps to
# the cluster (Secret Manager + External Secrets on GKE, Kubernetes Secrets on DOKS).

locals {
  brokered = ["content", "tagging", "billing", "campaign"]
  kek_services = {
    auth     = "MARQUEE_AUTH_KEK__KEY"
    campaign = "MARQUEE_CAMPAIGN_KEK__KEY"
  }

  # Ed25519 keys as the services read them: base64 of the 32-byte seed / public key.
  # PKCS#8 (48 bytes) ends with the seed after a 16-byte header and SubjectPublicKeyInfo
  # (44 bytes) with the key after a 12-byte header. Decoding the DER as ISO-8859-1 maps
  # each byte to one character; regex() counts characters (substr() would count grapheme
  # clusters, and CR LF is one), and encoding the match back gives the base64.
  identity_private = {
    for s in var.services : s => textencodebase64(
      regex("(?s)^.{16}(.{32})$", textdecodebase64(replace(replace(replace(
        tls_private_key.identity[s].private_key_pem_pkcs8,
        "-----BEGIN PRIVATE KEY-----", ""), "-----END PRIVATE KEY-----", ""), "\n", ""),
      "ISO-8859-1"))[0],
      "ISO-8859-1",
    )
  }
  identity_public = {
    for s in var.services : s => textencodebase64(
      regex("(?s)^.{12}(.{32})$", textdecodebase64(replace(replace(replace(
        tls_private_key.identity[s].public_key_pem,
        "-----BEGIN PUBLIC KEY-----", ""), "-----END PUBLIC KEY-----", ""), "\n", ""),
      "ISO-8859-1"))[0],
      "ISO-8859-1",
    )
  }

  # Services with a database; key names are not secret, the URLs are.
  database_services = nonsensitive(keys(var.database_urls))

  # Each group applies when its `if` holds ({ for … if } keeps the types equal when it
  # does not). Key names are the chart's: services.<svc>.secretEnv reads them.
  generated = {
    for s in var.services : s => merge(
      { MARQUEE_IDENTITY__SIGNING_KEY = local.identity_private[s] },
      { for k, v in { MARQUEE_DATABASE_URL = lookup(var.database_urls, s, "") } : k => v if contains(local.database_services, s) },
      { for k, v in { MARQUEE_AMQP_URL = var.amqp_url } : k => v if contains(local.brokered, s) },
      { for k, v in { MARQUEE_REDIS_URL = var.redis_url } : k => v if s == "gateway" },
      { for k, v in { REDIS_CA_CERT = var.redis_ca_certificate } : k => v if s == "gateway" && var.redis_ca_certificate != "" },
      { for k, v in {
        MARQUEE_CONTENT_SIGNING_KEY = random_bytes.content_signing_key.base64
        AWS_ACCESS_KEY_ID           = var.object_store.access_key_id
        AWS_SECRET_ACCESS_KEY       = var.object_store.secret_access_key
        AWS_ENDPOINT                = var.object_store.endpoint
        AWS_REGION                  = var.object_store.region
      } : k => v if s == "content" },
      { for k, v in { (lookup(local.kek_services, s, "none")) = try(random_bytes.kek[s].base64, "") } : k => v
      if var.kek_provider == "local" && contains(keys(local.kek_services), s) },
      { for k, v in {
        MARQUEE_BOOTSTRAP_ADMIN_EMAIL    = var.bootstrap_admin_email
        MARQUEE_BOOTSTRAP_ADMIN_PASSWORD = random_password.bootstrap_admin.result
      } : k => v if s == "auth" && var.bootstrap_admin_email != "" },
    )
  }
}

resource "tls_private_key" "identity" {
  for_each = toset(var.services)

  algorithm = "ED25519"
}

resource "random_bytes" "content_signing_key" {
  length = 32
}

resource "random_bytes" "kek" {
  for_each = var.kek_provider == "local" ? toset([for s in keys(local.kek_services) : s if contains(var.services, s)]) : toset([])

  length = 32
}

resource "random_password" "bootstrap_admin" {
  length  = 32
  special = false
}
