def test_project_list_visible_to_member(api, member, project):
    response = api.as_user(member).get("/api/projects/")
    assert response.status_code == 200
    assert [p["uuid"] for p in response.json()] == [str(project.uuid)]
    assert response["X-Result-Count"] == "1"
