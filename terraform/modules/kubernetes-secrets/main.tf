# DigitalOcean has no secret manager: Terraform writes the services' Secrets itself, from
# the values it generated or was given. (An External Secrets "kubernetes" store would
# only copy a Secret Terraform already wrote, adding a controller and RBAC but no source
# of truth.) Rotate by changing the source (e.g. terraform apply -replace=…) and
# restarting the service's pods.

resource "kubernetes_secret_v1" "service" {
  for_each = toset(var.services)

  metadata {
    name      = "${var.release_name}-${each.key}"
    namespace = var.namespace
    labels = {
      "app.kubernetes.io/managed-by" = "terraform"
      "app.kubernetes.io/part-of"    = "marquee"
    }
  }

  type = "Opaque"
  data = var.service_secrets[each.key]
}
