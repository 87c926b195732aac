"""The users group: the current user's profile and summary, list/get users (a mixin of ``_Builder``)."""

from __future__ import annotations

from .parts import _F, _E
from .schema import _human


class _UserEndpoints:
    """The users group: the current user's profile and summary, list/get users (a mixin of ``_Builder``)."""

    # ---- users -------------------------------------------------------------------------------

    def users_endpoints(self) -> list[_E]:
        users, rng = self.users, self.rng
        item, resp = self.entity_model(users), self.single_model(users)
        out: list[_E] = []
        me_lines = ["    session = SessionLocal()", "    try:", "        user_id = 1"]
        me_lines += self.fetch(users, "row", "user_id")
        me_lines += ["        current = " + item + "("] + self.ctor(item, users, "row", 8)[1:]
        me_lines += ["        return " + resp + "(user=current)", "    finally:", "        session.close()"]
        out.append(
            _E(
                "GET",
                "/api/users/me",
                "get_current_user",
                "Get my profile",
                "Retrieve the profile of the current user (user ID 1), including role and contact details.",
                ["users", "me"],
                "Users",
                [],
                None,
                resp,
                me_lines,
                {"users": ["*"]},
            )
        )
        owned = [t for t in self.tables if t.owned]
        if owned:
            fields = [_F("user_id", "int", "integer", True, "ID of the current user.", 1)]
            lines = ["    session = SessionLocal()", "    try:", "        user_id = 1"]
            lines += self.fetch(users, "row", "user_id")
            for t in owned:
                fields.append(
                    _F(f"{t.name}_count", "int", "integer", True, f"How many {t.hp} the current user has.", 2)
                )
                lines.append(
                    f"        {t.name}_count = session.query({t.cls}).filter({t.cls}.user_id == user_id).count()"
                )
            smodel = self._model("CurrentUserSummary", fields)
            lines += [f"        return {smodel}(", "            user_id=user_id,"]
            lines += [f"            {t.name}_count={t.name}_count," for t in owned]
            lines += ["        )", "    finally:", "        session.close()"]
            out.append(
                _E(
                    "GET",
                    "/api/users/me/summary",
                    "get_current_user_summary",
                    "Summarize my records",
                    f"Count the {', '.join(t.hp for t in owned)} that belong to the current user.",
                    ["users", "me"],
                    "Users",
                    [],
                    None,
                    smodel,
                    lines,
                    {"users": ["id"], **{t.name: ["user_id"] for t in owned}},
                )
            )
        if rng.random() < 0.8:
            ep = self.ep_list(users)
            ep.desc = "List user accounts, optionally filtered by username text, role or active flag; results are sorted and paginated."
            ep.summary, ep.tags, ep.group = "List users", ["users"], "Users"
            out.append(ep)
        if rng.random() < 0.8:
            ep = self.ep_get(users)
            ep.desc = "Retrieve a single user account by its ID, including role and contact details."
            ep.summary, ep.tags, ep.group = "Get a user by ID", ["users"], "Users"
            out.append(ep)
        cols = [c for c in users.writable() if c.name in ("email", "full_name", "phone", "timezone")]
        body, _ = self.body_model("CurrentUserPatchBody", users, cols, "patch")
        lines = ["    session = SessionLocal()", "    try:", "        user_id = 1"]
        lines += self.fetch(users, "row", "user_id")
        lines += [
            "        updates = body.model_dump(exclude_unset=True)",
            '        if "email" in updates and updates["email"] is None:',
            '            raise HTTPException(status_code=400, detail="email cannot be null")',
            '        if "full_name" in updates and updates["full_name"] is None:',
            '            raise HTTPException(status_code=400, detail="full_name cannot be null")',
        ]
        lines += self.enum_checks(users, "updates", cols)
        lines += self.unique_checks(users, "updates", "user_id", optional=True, only=cols)
        lines += [
            "        for field_name, new_value in updates.items():",
            "            setattr(row, field_name, new_value)",
            "        row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += ["        updated = " + item + "("] + self.ctor(item, users, "row", 8)[1:]
        lines += ["        return " + resp + "(user=updated)", "    finally:", "        session.close()"]
        out.append(
            _E(
                "PATCH",
                "/api/users/me",
                "update_current_user",
                "Update my profile",
                f"Update the current user's profile ({', '.join(_human(c.name) for c in cols)}); omitted fields stay unchanged.",
                ["users", "me"],
                "Users",
                [],
                body,
                resp,
                lines,
                {"users": [c.name for c in cols]},
            )
        )
        return out
