"""The documents a new request needs before it is submitted (附件1: 建设方案 and 自测报告), for tests."""
import base64
import io
import os

PDF = b"%PDF-1.4\n% govcloud test document\n"
REQUIRED = (("construction_plan", "建设方案.pdf"), ("self_test", "自测报告.pdf"))
API_DOCUMENTS = [{"purpose": purpose, "filename": name, "content_base64": base64.b64encode(PDF).decode()}
                 for purpose, name in REQUIRED]


def attach_required(session, ctx, request_id, instance_path):
    """Upload the construction plan and the self-test report to a draft through the service."""
    from portal.services import resource_requests
    for purpose, name in REQUIRED:
        resource_requests.add_attachment(session, ctx, request_id, purpose, name, io.BytesIO(PDF),
                                         os.path.join(instance_path, "uploads"))


def upload_required(client, request_id, csrf_token):
    """Upload both documents through the page (the edit form's upload slot)."""
    for purpose, name in REQUIRED:
        response = client.post(f"/requests/{request_id}/upload", data={
            "csrf_token": csrf_token, "purpose": purpose, "document": (io.BytesIO(PDF), name)},
            content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)[-500:]
