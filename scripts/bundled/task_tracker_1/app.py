from fastapi import FastAPI, HTTPException, Query, Path, Body
from pydantic import BaseModel, Field
from typing import Optional, List
from sqlalchemy import (
    create_engine,
    Column,
    Integer,
    String,
    Text,
    DateTime,
    Float,
    Boolean,
    ForeignKey,
    CheckConstraint,
    UniqueConstraint,
    Index,
    func,
)
from sqlalchemy.orm import declarative_base, sessionmaker
from datetime import datetime
import os

database_url = os.getenv("DATABASE_PATH", "sqlite:///./task_tracker_1.db")

engine = create_engine(database_url, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)

Base = declarative_base()

TASK_STATUSES = ("todo", "in_progress", "in_review", "done")
TASK_PRIORITIES = ("low", "medium", "high", "urgent")
DEFAULT_LABELS = [("bug", "#d73a4a"), ("feature", "#a2eeef"), ("chore", "#cfd3d7")]


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    username = Column(String, unique=True, nullable=False)
    email = Column(String, unique=True, nullable=False)
    full_name = Column(String)
    created_at = Column(DateTime, default=datetime.utcnow)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)
    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    name = Column(String, nullable=False)
    description = Column(Text)
    is_archived = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("status IN ('todo','in_progress','in_review','done')"),
        CheckConstraint("priority IN ('low','medium','high','urgent')"),
    )
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    title = Column(String, nullable=False)
    description = Column(Text)
    status = Column(String, nullable=False, default="todo")
    priority = Column(String, nullable=False, default="medium")
    assignee_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    reporter_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    due_date = Column(DateTime)
    estimate_hours = Column(Float)
    completed_at = Column(DateTime)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    name = Column(String, nullable=False)
    color = Column(String)


class TaskLabel(Base):
    __tablename__ = "task_labels"
    task_id = Column(Integer, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    label_id = Column(Integer, ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True)


class Comment(Base):
    __tablename__ = "comments"
    id = Column(Integer, primary_key=True)
    task_id = Column(Integer, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    author_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    content = Column(Text, nullable=False)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


Index("idx_projects_owner_id", Project.owner_id)
Index("idx_tasks_project_status", Task.project_id, Task.status)
Index("idx_tasks_assignee_id", Task.assignee_id)
Index("idx_labels_project_id", Label.project_id)
Index("idx_task_labels_label_id", TaskLabel.label_id)
Index("idx_comments_task_created", Comment.task_id, Comment.created_at)

Base.metadata.create_all(engine)

app = FastAPI(title="Task Tracker API", version="1.0.0")


def now_utc() -> datetime:
    return datetime.utcnow()


# ---------------------------------------------------------------------------
# Pydantic models
# ---------------------------------------------------------------------------


class ProjectModel(BaseModel):
    id: int = Field(..., description="Project ID.", example=1)
    name: str = Field(..., description="Project name.", example="Website Redesign")
    description: Optional[str] = Field(None, description="Project description.", example="Refresh the marketing site and docs portal.")
    is_archived: bool = Field(..., description="Whether the project is archived.", example=False)
    open_task_count: int = Field(..., description="Number of tasks not yet done.", example=4)
    total_task_count: int = Field(..., description="Total number of tasks in the project.", example=6)
    created_at: Optional[datetime] = Field(None, description="Creation timestamp (ISO 8601).", example="2024-04-01T09:00:00Z")


class ProjectListResponse(BaseModel):
    projects: List[ProjectModel] = Field(..., description="Projects owned by the current user.", example=[])


class ProjectCreateBody(BaseModel):
    name: str = Field(..., description="Name of the new project; must be unique among the user's projects.", example="Q3 Marketing Launch")
    description: Optional[str] = Field(None, description="Optional project description.", example="Landing pages, email campaign and launch webinar.")
    create_default_labels: bool = Field(True, description="If true, create the default labels bug, feature and chore.", example=True)


class LabelModel(BaseModel):
    id: int = Field(..., description="Label ID.", example=1)
    name: str = Field(..., description="Label name.", example="backend")
    color: Optional[str] = Field(None, description="Hex color of the label.", example="#0e8a16")


class ProjectCreateResponse(BaseModel):
    project: ProjectModel = Field(..., description="The created project.")
    labels: List[LabelModel] = Field(..., description="Labels created with the project.", example=[])


class TaskSummaryModel(BaseModel):
    id: int = Field(..., description="Task ID.", example=2)
    project_id: int = Field(..., description="ID of the project the task belongs to.", example=1)
    title: str = Field(..., description="Task title.", example="Migrate auth service to OAuth 2.1")
    status: str = Field(..., description="Task status (todo, in_progress, in_review, done).", example="in_progress")
    priority: str = Field(..., description="Task priority (low, medium, high, urgent).", example="high")
    assignee_id: Optional[int] = Field(None, description="ID of the assigned user.", example=1)
    assignee_name: Optional[str] = Field(None, description="Full name of the assigned user.", example="Alex Rivera")
    due_date: Optional[datetime] = Field(None, description="Due date (ISO 8601).", example="2024-06-01T17:00:00Z")
    estimate_hours: Optional[float] = Field(None, description="Estimated effort in hours.", example=6.5)
    labels: List[str] = Field(..., description="Names of labels attached to the task.", example=["backend", "security"])


class TaskListResponse(BaseModel):
    tasks: List[TaskSummaryModel] = Field(..., description="Tasks matching the filters.", example=[])


class CommentModel(BaseModel):
    id: int = Field(..., description="Comment ID.", example=1)
    task_id: int = Field(..., description="ID of the commented task.", example=2)
    author_id: int = Field(..., description="ID of the comment author.", example=1)
    author_name: Optional[str] = Field(None, description="Full name of the comment author.", example="Alex Rivera")
    content: str = Field(..., description="Comment text.", example="Token refresh is working in staging.")
    created_at: Optional[datetime] = Field(None, description="Creation timestamp (ISO 8601).", example="2024-05-02T14:30:00Z")


class TaskDetailModel(BaseModel):
    id: int = Field(..., description="Task ID.", example=2)
    project_id: int = Field(..., description="Project ID.", example=1)
    project_name: str = Field(..., description="Project name.", example="Website Redesign")
    title: str = Field(..., description="Task title.", example="Migrate auth service to OAuth 2.1")
    description: Optional[str] = Field(None, description="Task description.", example="Replace legacy session tokens.")
    status: str = Field(..., description="Task status.", example="in_progress")
    priority: str = Field(..., description="Task priority.", example="high")
    assignee_id: Optional[int] = Field(None, description="Assigned user ID.", example=1)
    reporter_id: int = Field(..., description="ID of the user who reported the task.", example=2)
    due_date: Optional[datetime] = Field(None, description="Due date (ISO 8601).", example="2024-06-01T17:00:00Z")
    estimate_hours: Optional[float] = Field(None, description="Estimated effort in hours.", example=6.5)
    completed_at: Optional[datetime] = Field(None, description="When the task was marked done (ISO 8601).", example=None)
    created_at: Optional[datetime] = Field(None, description="Creation timestamp (ISO 8601).", example="2024-05-01T09:00:00Z")
    updated_at: Optional[datetime] = Field(None, description="Last update timestamp (ISO 8601).", example="2024-05-03T09:00:00Z")
    labels: List[LabelModel] = Field(..., description="Labels attached to the task.", example=[])
    comments: List[CommentModel] = Field(..., description="Comments on the task, oldest first.", example=[])


class TaskDetailResponse(BaseModel):
    task: TaskDetailModel = Field(..., description="Full task details.")


class TaskCreateBody(BaseModel):
    title: str = Field(..., description="Short title of the task.", example="Write API docs for webhooks")
    description: Optional[str] = Field(None, description="Longer description of the work.", example="Document payload formats and retry behaviour.")
    priority: str = Field("medium", description="Priority: low, medium, high or urgent.", example="high")
    assignee_id: Optional[int] = Field(None, description="ID of the user to assign the task to.", example=2)
    due_date: Optional[datetime] = Field(None, description="Due date and time (ISO 8601).", example="2025-07-01T17:00:00")
    estimate_hours: Optional[float] = Field(None, ge=0, description="Estimated effort in hours.", example=3.5)
    label_names: Optional[List[str]] = Field(
        None,
        description="Names of labels to attach; labels missing from the project are created.",
        example=["backend", "docs"],
    )


class TaskUpdateBody(BaseModel):
    status: Optional[str] = Field(None, description="New status: todo, in_progress, in_review or done.", example="done")
    priority: Optional[str] = Field(None, description="New priority: low, medium, high or urgent.", example="urgent")
    assignee_id: Optional[int] = Field(None, description="ID of the user to reassign the task to.", example=3)
    due_date: Optional[datetime] = Field(None, description="New due date (ISO 8601).", example="2025-07-15T17:00:00")


class TaskLabelsBody(BaseModel):
    label_ids: List[int] = Field(..., description="Complete list of label IDs the task should carry; replaces existing labels.", example=[1, 3])


class TaskLabelsResponse(BaseModel):
    task_id: int = Field(..., description="Task ID.", example=1)
    labels: List[LabelModel] = Field(..., description="Labels now attached to the task.", example=[])


class TaskDeleteResponse(BaseModel):
    status: str = Field(..., description="Result of the operation.", example="deleted")
    task_id: int = Field(..., description="ID of the deleted task.", example=6)
    deleted_comment_count: int = Field(..., description="Number of comments deleted with the task.", example=1)


class CommentCreateBody(BaseModel):
    content: str = Field(..., description="Text of the comment.", example="Blocked until the staging database is restored.")
    notify_assignee: bool = Field(False, description="If true, notify the task's assignee about the comment.", example=True)


class CommentCreateResponse(BaseModel):
    comment: CommentModel = Field(..., description="The created comment.")
    notified_user_id: Optional[int] = Field(None, description="ID of the notified assignee, if any.", example=2)


class CommentDeleteResponse(BaseModel):
    status: str = Field(..., description="Result of the operation.", example="deleted")
    comment_id: int = Field(..., description="ID of the deleted comment.", example=2)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def project_model(session, project: Project) -> ProjectModel:
    total = session.query(func.count(Task.id)).filter(Task.project_id == project.id).scalar() or 0
    open_count = (
        session.query(func.count(Task.id)).filter(Task.project_id == project.id, Task.status != "done").scalar() or 0
    )
    return ProjectModel(
        id=project.id,
        name=project.name,
        description=project.description,
        is_archived=bool(project.is_archived),
        open_task_count=open_count,
        total_task_count=total,
        created_at=project.created_at,
    )


def task_labels(session, task_id: int) -> List[Label]:
    return (
        session.query(Label)
        .join(TaskLabel, TaskLabel.label_id == Label.id)
        .filter(TaskLabel.task_id == task_id)
        .order_by(Label.name.asc())
        .all()
    )


def comment_model(comment: Comment, author: Optional[User]) -> CommentModel:
    return CommentModel(
        id=comment.id,
        task_id=comment.task_id,
        author_id=comment.author_id,
        author_name=author.full_name if author else None,
        content=comment.content,
        created_at=comment.created_at,
    )


def task_detail(session, task: Task) -> TaskDetailModel:
    project = session.query(Project).filter(Project.id == task.project_id).first()
    comments = (
        session.query(Comment, User)
        .outerjoin(User, Comment.author_id == User.id)
        .filter(Comment.task_id == task.id)
        .order_by(Comment.created_at.asc())
        .all()
    )
    return TaskDetailModel(
        id=task.id,
        project_id=task.project_id,
        project_name=project.name if project else "",
        title=task.title,
        description=task.description,
        status=task.status,
        priority=task.priority,
        assignee_id=task.assignee_id,
        reporter_id=task.reporter_id,
        due_date=task.due_date,
        estimate_hours=task.estimate_hours,
        completed_at=task.completed_at,
        created_at=task.created_at,
        updated_at=task.updated_at,
        labels=[LabelModel(id=l.id, name=l.name, color=l.color) for l in task_labels(session, task.id)],
        comments=[comment_model(c, u) for c, u in comments],
    )


# ---------------------------------------------------------------------------
# Projects
# ---------------------------------------------------------------------------


@app.get(
    "/api/projects",
    response_model=ProjectListResponse,
    summary="List my projects",
    description="List the projects owned by the current user with open and total task counts, optionally including archived ones.",
    tags=["projects"],
    operation_id="list_my_projects",
)
async def list_my_projects(
    include_archived: bool = Query(False, description="If true, archived projects are included in the result.", example=True),
) -> ProjectListResponse:
    session = SessionLocal()
    user_id = 1
    q = session.query(Project).filter(Project.owner_id == user_id)
    if not include_archived:
        q = q.filter(Project.is_archived == False)  # noqa: E712
    projects = [project_model(session, p) for p in q.order_by(Project.created_at.desc()).all()]
    session.close()
    return ProjectListResponse(projects=projects)


@app.post(
    "/api/projects",
    response_model=ProjectCreateResponse,
    summary="Create a project",
    description="Create a new project owned by the current user, optionally seeding the default bug, feature and chore labels.",
    tags=["projects"],
    operation_id="create_project",
)
async def create_project(
    body: ProjectCreateBody = Body(..., description="New project details."),
) -> ProjectCreateResponse:
    session = SessionLocal()
    user_id = 1
    existing = session.query(Project).filter(Project.owner_id == user_id, Project.name == body.name).first()
    if existing is not None:
        session.close()
        raise HTTPException(status_code=409, detail="A project with this name already exists")
    project = Project(
        owner_id=user_id,
        name=body.name,
        description=body.description,
        is_archived=False,
        created_at=now_utc(),
        updated_at=now_utc(),
    )
    session.add(project)
    session.flush()
    labels: List[Label] = []
    if body.create_default_labels:
        for name, color in DEFAULT_LABELS:
            label = Label(project_id=project.id, name=name, color=color)
            session.add(label)
            labels.append(label)
    session.commit()
    session.refresh(project)
    result = ProjectCreateResponse(
        project=project_model(session, project),
        labels=[LabelModel(id=l.id, name=l.name, color=l.color) for l in labels],
    )
    session.close()
    return result


# ---------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------


@app.get(
    "/api/projects/{project_id}/tasks",
    response_model=TaskListResponse,
    summary="List tasks in a project",
    description="List a project's tasks, filtering by status, by labels (tasks must carry every given label) and to tasks assigned to the current user.",
    tags=["tasks"],
    operation_id="list_project_tasks",
)
async def list_project_tasks(
    project_id: int = Path(..., description="ID of the project whose tasks are listed.", example=1),
    status: Optional[str] = Query(None, description="Only return tasks with this status (todo, in_progress, in_review, done).", example="in_progress"),
    labels: Optional[List[str]] = Query(None, description="Label names; only tasks carrying all of these labels are returned.", example=["backend"]),
    assigned_to_me: bool = Query(False, description="If true, only return tasks assigned to the current user.", example=True),
    limit: int = Query(50, ge=1, le=200, description="Maximum number of tasks to return.", example=20),
) -> TaskListResponse:
    session = SessionLocal()
    user_id = 1
    project = session.query(Project).filter(Project.id == project_id).first()
    if project is None:
        session.close()
        raise HTTPException(status_code=404, detail="Project not found")
    q = session.query(Task).filter(Task.project_id == project.id)
    if status:
        q = q.filter(Task.status == status)
    if assigned_to_me:
        q = q.filter(Task.assignee_id == user_id)
    if labels:
        wanted = {name.lower() for name in labels}
        matching_ids = (
            session.query(TaskLabel.task_id)
            .join(Label, TaskLabel.label_id == Label.id)
            .filter(func.lower(Label.name).in_(wanted))
            .group_by(TaskLabel.task_id)
            .having(func.count(func.distinct(Label.id)) >= len(wanted))
        )
        q = q.filter(Task.id.in_(matching_ids))
    tasks = q.order_by(Task.due_date.asc().nullslast(), Task.id.asc()).limit(limit).all()
    results: List[TaskSummaryModel] = []
    for t in tasks:
        assignee = session.query(User).filter(User.id == t.assignee_id).first() if t.assignee_id else None
        results.append(
            TaskSummaryModel(
                id=t.id,
                project_id=t.project_id,
                title=t.title,
                status=t.status,
                priority=t.priority,
                assignee_id=t.assignee_id,
                assignee_name=assignee.full_name if assignee else None,
                due_date=t.due_date,
                estimate_hours=t.estimate_hours,
                labels=[l.name for l in task_labels(session, t.id)],
            )
        )
    session.close()
    return TaskListResponse(tasks=results)


@app.post(
    "/api/projects/{project_id}/tasks",
    response_model=TaskDetailResponse,
    summary="Create a task",
    description="Create a task in a project reported by the current user, attaching labels by name and creating any that do not exist yet.",
    tags=["tasks"],
    operation_id="create_task",
)
async def create_task(
    project_id: int = Path(..., description="ID of the project to add the task to.", example=1),
    body: TaskCreateBody = Body(..., description="Task details."),
) -> TaskDetailResponse:
    session = SessionLocal()
    user_id = 1
    project = session.query(Project).filter(Project.id == project_id).first()
    if project is None:
        session.close()
        raise HTTPException(status_code=404, detail="Project not found")
    if body.priority not in TASK_PRIORITIES:
        session.close()
        raise HTTPException(status_code=400, detail="Invalid priority")
    if body.assignee_id is not None and session.query(User).filter(User.id == body.assignee_id).first() is None:
        session.close()
        raise HTTPException(status_code=404, detail="Assignee not found")
    task = Task(
        project_id=project.id,
        title=body.title,
        description=body.description,
        status="todo",
        priority=body.priority,
        assignee_id=body.assignee_id,
        reporter_id=user_id,
        due_date=body.due_date,
        estimate_hours=body.estimate_hours,
        created_at=now_utc(),
        updated_at=now_utc(),
    )
    session.add(task)
    session.flush()
    for name in dict.fromkeys(body.label_names or []):
        label = session.query(Label).filter(Label.project_id == project.id, Label.name == name).first()
        if label is None:
            label = Label(project_id=project.id, name=name, color="#ededed")
            session.add(label)
            session.flush()
        session.add(TaskLabel(task_id=task.id, label_id=label.id))
    session.commit()
    session.refresh(task)
    result = TaskDetailResponse(task=task_detail(session, task))
    session.close()
    return result


@app.get(
    "/api/tasks/{task_id}",
    response_model=TaskDetailResponse,
    summary="Get task details",
    description="Retrieve one task with its project name, labels and full comment thread.",
    tags=["tasks"],
    operation_id="get_task_details",
)
async def get_task_details(
    task_id: int = Path(..., description="ID of the task to retrieve.", example=2),
) -> TaskDetailResponse:
    session = SessionLocal()
    task = session.query(Task).filter(Task.id == task_id).first()
    if task is None:
        session.close()
        raise HTTPException(status_code=404, detail="Task not found")
    result = TaskDetailResponse(task=task_detail(session, task))
    session.close()
    return result


@app.patch(
    "/api/tasks/{task_id}",
    response_model=TaskDetailResponse,
    summary="Update a task",
    description="Change a task's status, priority, assignee or due date; only the fields provided are modified.",
    tags=["tasks"],
    operation_id="update_task",
)
async def update_task(
    task_id: int = Path(..., description="ID of the task to update.", example=2),
    body: TaskUpdateBody = Body(..., description="Fields to change."),
) -> TaskDetailResponse:
    session = SessionLocal()
    task = session.query(Task).filter(Task.id == task_id).first()
    if task is None:
        session.close()
        raise HTTPException(status_code=404, detail="Task not found")
    if body.status is not None:
        if body.status not in TASK_STATUSES:
            session.close()
            raise HTTPException(status_code=400, detail="Invalid status")
        if body.status == "done" and task.status != "done":
            task.completed_at = now_utc()
        elif body.status != "done":
            task.completed_at = None
        task.status = body.status
    if body.priority is not None:
        if body.priority not in TASK_PRIORITIES:
            session.close()
            raise HTTPException(status_code=400, detail="Invalid priority")
        task.priority = body.priority
    if body.assignee_id is not None:
        if session.query(User).filter(User.id == body.assignee_id).first() is None:
            session.close()
            raise HTTPException(status_code=404, detail="Assignee not found")
        task.assignee_id = body.assignee_id
    if body.due_date is not None:
        task.due_date = body.due_date
    task.updated_at = now_utc()
    session.commit()
    session.refresh(task)
    result = TaskDetailResponse(task=task_detail(session, task))
    session.close()
    return result


@app.put(
    "/api/tasks/{task_id}/labels",
    response_model=TaskLabelsResponse,
    summary="Replace a task's labels",
    description="Replace the full set of labels on a task with the given label IDs, which must belong to the task's project.",
    tags=["tasks", "labels"],
    operation_id="set_task_labels",
)
async def set_task_labels(
    task_id: int = Path(..., description="ID of the task whose labels are replaced.", example=1),
    body: TaskLabelsBody = Body(..., description="New label set."),
) -> TaskLabelsResponse:
    session = SessionLocal()
    task = session.query(Task).filter(Task.id == task_id).first()
    if task is None:
        session.close()
        raise HTTPException(status_code=404, detail="Task not found")
    wanted = list(dict.fromkeys(body.label_ids))
    labels = session.query(Label).filter(Label.id.in_(wanted)).all() if wanted else []
    if len(labels) != len(wanted):
        session.close()
        raise HTTPException(status_code=404, detail="Label not found")
    if any(l.project_id != task.project_id for l in labels):
        session.close()
        raise HTTPException(status_code=400, detail="Labels must belong to the task's project")
    session.query(TaskLabel).filter(TaskLabel.task_id == task.id).delete(synchronize_session=False)
    for label_id in wanted:
        session.add(TaskLabel(task_id=task.id, label_id=label_id))
    task.updated_at = now_utc()
    session.commit()
    result = TaskLabelsResponse(
        task_id=task.id,
        labels=[LabelModel(id=l.id, name=l.name, color=l.color) for l in task_labels(session, task.id)],
    )
    session.close()
    return result


@app.delete(
    "/api/tasks/{task_id}",
    response_model=TaskDeleteResponse,
    summary="Delete a task",
    description="Permanently delete a task from a project owned by the current user, along with its comments and label links.",
    tags=["tasks"],
    operation_id="delete_task",
)
async def delete_task(
    task_id: int = Path(..., description="ID of the task to delete.", example=6),
) -> TaskDeleteResponse:
    session = SessionLocal()
    user_id = 1
    task = (
        session.query(Task)
        .join(Project, Task.project_id == Project.id)
        .filter(Task.id == task_id, Project.owner_id == user_id)
        .first()
    )
    if task is None:
        session.close()
        raise HTTPException(status_code=404, detail="Task not found")
    deleted_comments = session.query(Comment).filter(Comment.task_id == task.id).delete(synchronize_session=False)
    session.query(TaskLabel).filter(TaskLabel.task_id == task.id).delete(synchronize_session=False)
    session.delete(task)
    session.commit()
    session.close()
    return TaskDeleteResponse(status="deleted", task_id=task_id, deleted_comment_count=deleted_comments)


# ---------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------


@app.post(
    "/api/tasks/{task_id}/comments",
    response_model=CommentCreateResponse,
    summary="Comment on a task",
    description="Add a comment from the current user to a task and optionally notify the task's assignee.",
    tags=["comments"],
    operation_id="add_task_comment",
)
async def add_task_comment(
    task_id: int = Path(..., description="ID of the task to comment on.", example=3),
    body: CommentCreateBody = Body(..., description="Comment content."),
) -> CommentCreateResponse:
    session = SessionLocal()
    user_id = 1
    task = session.query(Task).filter(Task.id == task_id).first()
    if task is None:
        session.close()
        raise HTTPException(status_code=404, detail="Task not found")
    comment = Comment(task_id=task.id, author_id=user_id, content=body.content, created_at=now_utc(), updated_at=now_utc())
    session.add(comment)
    task.updated_at = now_utc()
    session.commit()
    session.refresh(comment)
    notified = task.assignee_id if body.notify_assignee and task.assignee_id not in (None, user_id) else None
    author = session.query(User).filter(User.id == user_id).first()
    result = CommentCreateResponse(comment=comment_model(comment, author), notified_user_id=notified)
    session.close()
    return result


@app.delete(
    "/api/comments/{comment_id}",
    response_model=CommentDeleteResponse,
    summary="Delete my comment",
    description="Delete a comment written by the current user; comments by other users cannot be deleted.",
    tags=["comments"],
    operation_id="delete_my_comment",
)
async def delete_my_comment(
    comment_id: int = Path(..., description="ID of the comment to delete.", example=2),
) -> CommentDeleteResponse:
    session = SessionLocal()
    user_id = 1
    comment = session.query(Comment).filter(Comment.id == comment_id).first()
    if comment is None:
        session.close()
        raise HTTPException(status_code=404, detail="Comment not found")
    if comment.author_id != user_id:
        session.close()
        raise HTTPException(status_code=403, detail="You can only delete your own comments")
    session.delete(comment)
    session.commit()
    session.close()
    return CommentDeleteResponse(status="deleted", comment_id=comment_id)


if __name__ == "__main__":
    import uvicorn

    host = os.getenv("HOST", "127.0.0.1")
    port = int(os.getenv("PORT", "8000"))
    uvicorn.run(app, host=host, port=port)
