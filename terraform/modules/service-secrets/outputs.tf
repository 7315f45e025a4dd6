output "secrets" {
  description = "Environment variables per service (the Secret marquee-<service>): generated keys merged with extra_secrets."
  value       = { for s in var.services : s => merge(local.generated[s], lookup(var.extra_secrets, s, {})) }
  sensitive   = true
}

output "identity_public_keys" {
  description = "Base64 Ed25519 public key per service: the chart's identity.publicKeys."
  value       = local.identity_public
}

output "bootstrap_admin_password" {
  description = "Password of the bootstrap administrator (only used with bootstrap_admin_email)."
  value       = random_password.bootstrap_admin.result
  sensitive   = true
}
