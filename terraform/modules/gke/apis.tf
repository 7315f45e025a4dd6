# The Google APIs the module's resources call. Enabled once per project and never
# disabled on destroy (other workloads in the project may use them too).

resource "google_project_service" "this" {
  for_each = toset(var.project_services)

  project                    = var.project_id
  service                    = each.key
  disable_on_destroy         = false
  disable_dependent_services = false
}
