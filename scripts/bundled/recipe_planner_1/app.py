from fastapi import FastAPI, HTTPException, Query, Path, Body
from pydantic import BaseModel, Field
from typing import Optional, List, Dict, Tuple
from sqlalchemy import (
    create_engine,
    Column,
    Integer,
    String,
    Text,
    DateTime,
    Date,
    Float,
    Boolean,
    ForeignKey,
    CheckConstraint,
    Index,
)
from sqlalchemy.orm import declarative_base, sessionmaker
from datetime import datetime, date, timedelta
import os

database_url = os.getenv("DATABASE_PATH", "sqlite:///./recipe_planner_1.db")

engine = create_engine(database_url, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)

Base = declarative_base()

MEAL_TYPES = ("breakfast", "lunch", "dinner", "snack")


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    username = Column(String, unique=True, nullable=False)
    email = Column(String, unique=True, nullable=False)
    full_name = Column(String)
    household_size = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime, default=datetime.utcnow)


class Recipe(Base):
    __tablename__ = "recipes"
    id = Column(Integer, primary_key=True)
    author_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    title = Column(String, nullable=False)
    description = Column(Text)
    cuisine = Column(String)
    servings = Column(Integer, nullable=False)
    prep_minutes = Column(Integer, nullable=False, default=0)
    cook_minutes = Column(Integer, nullable=False, default=0)
    is_vegetarian = Column(Boolean, nullable=False, default=False)
    average_rating = Column(Float, nullable=False, default=0.0)
    instructions = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class Ingredient(Base):
    __tablename__ = "ingredients"
    id = Column(Integer, primary_key=True)
    name = Column(String, unique=True, nullable=False)
    category = Column(String, nullable=False)
    default_unit = Column(String)


class RecipeIngredient(Base):
    __tablename__ = "recipe_ingredients"
    recipe_id = Column(Integer, ForeignKey("recipes.id", ondelete="CASCADE"), primary_key=True)
    ingredient_id = Column(Integer, ForeignKey("ingredients.id", ondelete="CASCADE"), primary_key=True)
    quantity = Column(Float, nullable=False)
    unit = Column(String, nullable=False)
    note = Column(String)


class MealPlan(Base):
    __tablename__ = "meal_plans"
    __table_args__ = (CheckConstraint("meal_type IN ('breakfast','lunch','dinner','snack')"),)
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    recipe_id = Column(Integer, ForeignKey("recipes.id", ondelete="CASCADE"), nullable=False)
    planned_date = Column(Date, nullable=False)
    meal_type = Column(String, nullable=False)
    servings = Column(Integer, nullable=False)
    notes = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class ShoppingListItem(Base):
    __tablename__ = "shopping_list_items"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    ingredient_id = Column(Integer, ForeignKey("ingredients.id", ondelete="CASCADE"), nullable=False)
    quantity = Column(Float, nullable=False)
    unit = Column(String, nullable=False)
    is_purchased = Column(Boolean, nullable=False, default=False)
    source = Column(String, nullable=False, default="manual")
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


Index("idx_recipes_title", Recipe.title)
Index("idx_recipes_cuisine", Recipe.cuisine)
Index("idx_recipe_ingredients_ingredient_id", RecipeIngredient.ingredient_id)
Index("idx_meal_plans_user_date", MealPlan.user_id, MealPlan.planned_date)
Index("idx_shopping_list_items_user_purchased", ShoppingListItem.user_id, ShoppingListItem.is_purchased)

Base.metadata.create_all(engine)

app = FastAPI(title="Recipe & Meal Planner API", version="1.0.0")


def now_utc() -> datetime:
    return datetime.utcnow()


# ---------------------------------------------------------------------------
# Pydantic models
# ---------------------------------------------------------------------------


class RecipeSummaryModel(BaseModel):
    id: int = Field(..., description="Recipe ID.", example=2)
    title: str = Field(..., description="Recipe title.", example="Chickpea and Spinach Curry")
    cuisine: Optional[str] = Field(None, description="Cuisine of the recipe.", example="Indian")
    servings: int = Field(..., description="Number of servings the recipe yields.", example=4)
    total_minutes: int = Field(..., description="Preparation plus cooking time in minutes.", example=40)
    is_vegetarian: bool = Field(..., description="Whether the recipe is vegetarian.", example=True)
    average_rating: float = Field(..., description="Average user rating (0-5).", example=4.7)


class RecipeSearchResponse(BaseModel):
    recipes: List[RecipeSummaryModel] = Field(..., description="Recipes matching the filters, best rated first.", example=[])


class RecipeIngredientModel(BaseModel):
    ingredient_id: int = Field(..., description="Ingredient ID.", example=3)
    name: str = Field(..., description="Ingredient name.", example="chickpeas")
    quantity: float = Field(..., description="Quantity, scaled to the requested servings.", example=2.0)
    unit: str = Field(..., description="Unit of measure.", example="can")
    note: Optional[str] = Field(None, description="Preparation note.", example="drained and rinsed")


class RecipeDetailModel(BaseModel):
    id: int = Field(..., description="Recipe ID.", example=2)
    title: str = Field(..., description="Recipe title.", example="Chickpea and Spinach Curry")
    description: Optional[str] = Field(None, description="Short description.", example="A weeknight curry with pantry staples.")
    cuisine: Optional[str] = Field(None, description="Cuisine.", example="Indian")
    base_servings: int = Field(..., description="Servings the stored quantities are written for.", example=4)
    servings: int = Field(..., description="Servings the returned quantities are scaled to.", example=6)
    prep_minutes: int = Field(..., description="Preparation time in minutes.", example=10)
    cook_minutes: int = Field(..., description="Cooking time in minutes.", example=30)
    is_vegetarian: bool = Field(..., description="Whether the recipe is vegetarian.", example=True)
    average_rating: float = Field(..., description="Average user rating (0-5).", example=4.7)
    instructions: Optional[str] = Field(None, description="Step-by-step instructions.", example="1. Fry the onion...")
    ingredients: List[RecipeIngredientModel] = Field(..., description="Ingredients with scaled quantities.", example=[])


class RecipeDetailResponse(BaseModel):
    recipe: RecipeDetailModel = Field(..., description="Full recipe.")


class RecipeMatchModel(BaseModel):
    recipe_id: int = Field(..., description="Recipe ID.", example=2)
    title: str = Field(..., description="Recipe title.", example="Chickpea and Spinach Curry")
    matched_ingredient_ids: List[int] = Field(..., description="Requested ingredient IDs the recipe uses.", example=[3, 5])
    missing_ingredients: List[str] = Field(..., description="Names of other ingredients the recipe needs.", example=["coconut milk"])


class RecipeMatchResponse(BaseModel):
    recipes: List[RecipeMatchModel] = Field(..., description="Recipes using the given ingredients, most matches first.", example=[])


class MealPlanEntryModel(BaseModel):
    id: int = Field(..., description="Meal plan entry ID.", example=1)
    recipe_id: int = Field(..., description="Planned recipe ID.", example=2)
    recipe_title: str = Field(..., description="Planned recipe title.", example="Chickpea and Spinach Curry")
    planned_date: date = Field(..., description="Date of the meal (YYYY-MM-DD).", example="2024-06-12")
    meal_type: str = Field(..., description="Meal type (breakfast, lunch, dinner, snack).", example="dinner")
    servings: int = Field(..., description="Servings planned.", example=4)
    notes: Optional[str] = Field(None, description="Free-form notes.", example="Double the spinach")


class MealPlanListResponse(BaseModel):
    entries: List[MealPlanEntryModel] = Field(..., description="Planned meals in date order.", example=[])


class MealPlanCreateBody(BaseModel):
    recipe_id: int = Field(..., description="ID of the recipe to plan.", example=5)
    planned_date: date = Field(..., description="Date of the meal (YYYY-MM-DD).", example="2025-06-12")
    meal_type: str = Field(..., description="Meal type: breakfast, lunch, dinner or snack.", example="dinner")
    servings: Optional[int] = Field(None, ge=1, description="Servings to cook; defaults to the user's household size.", example=4)
    notes: Optional[str] = Field(None, description="Optional notes for the meal.", example="Use leftover rice")


class MealPlanUpdateBody(BaseModel):
    planned_date: Optional[date] = Field(None, description="New date for the meal (YYYY-MM-DD).", example="2025-06-14")
    meal_type: Optional[str] = Field(None, description="New meal type: breakfast, lunch, dinner or snack.", example="lunch")
    servings: Optional[int] = Field(None, ge=1, description="New number of servings.", example=6)


class MealPlanEntryResponse(BaseModel):
    entry: MealPlanEntryModel = Field(..., description="The meal plan entry.")


class MealPlanDeleteResponse(BaseModel):
    status: str = Field(..., description="Result of the operation.", example="deleted")
    entry_id: int = Field(..., description="ID of the deleted entry.", example=2)


class ShoppingListGenerateBody(BaseModel):
    days_ahead: int = Field(7, ge=1, le=31, description="Include meals planned from today through this many days ahead.", example=7)
    clear_existing: bool = Field(False, description="If true, first remove unpurchased items previously generated from the meal plan.", example=True)
    exclude_ingredient_ids: Optional[List[int]] = Field(
        None,
        description="Ingredient IDs to leave off the list, such as pantry staples already at home.",
        example=[11, 12],
    )


class ShoppingListItemModel(BaseModel):
    id: int = Field(..., description="Shopping list item ID.", example=1)
    ingredient_id: int = Field(..., description="Ingredient ID.", example=3)
    ingredient_name: str = Field(..., description="Ingredient name.", example="chickpeas")
    category: str = Field(..., description="Store aisle category.", example="pantry")
    quantity: float = Field(..., description="Quantity to buy.", example=2.0)
    unit: str = Field(..., description="Unit of measure.", example="can")
    is_purchased: bool = Field(..., description="Whether the item has been bought.", example=False)
    source: str = Field(..., description="How the item was added (manual or meal_plan).", example="meal_plan")


class ShoppingListResponse(BaseModel):
    items: List[ShoppingListItemModel] = Field(..., description="Shopping list items grouped by category.", example=[])


class ShoppingListGenerateResponse(BaseModel):
    meals_included: int = Field(..., description="Number of planned meals aggregated.", example=4)
    removed_count: int = Field(..., description="Number of old generated items removed.", example=2)
    items: List[ShoppingListItemModel] = Field(..., description="Full shopping list after generation.", example=[])


class ShoppingListItemUpdateBody(BaseModel):
    quantity: float = Field(..., gt=0, description="Quantity to buy.", example=2.5)
    unit: str = Field(..., description="Unit of measure.", example="lb")
    is_purchased: bool = Field(..., description="Whether the item has been bought.", example=True)


class ShoppingListItemResponse(BaseModel):
    item: ShoppingListItemModel = Field(..., description="The updated item.")


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def recipe_summary(r: Recipe) -> RecipeSummaryModel:
    return RecipeSummaryModel(
        id=r.id,
        title=r.title,
        cuisine=r.cuisine,
        servings=r.servings,
        total_minutes=(r.prep_minutes or 0) + (r.cook_minutes or 0),
        is_vegetarian=bool(r.is_vegetarian),
        average_rating=r.average_rating or 0.0,
    )


def meal_plan_model(entry: MealPlan, recipe: Recipe) -> MealPlanEntryModel:
    return MealPlanEntryModel(
        id=entry.id,
        recipe_id=entry.recipe_id,
        recipe_title=recipe.title,
        planned_date=entry.planned_date,
        meal_type=entry.meal_type,
        servings=entry.servings,
        notes=entry.notes,
    )


def shopping_items(session, user_id: int, include_purchased: bool = True, category: Optional[str] = None) -> List[ShoppingListItemModel]:
    q = (
        session.query(ShoppingListItem, Ingredient)
        .join(Ingredient, ShoppingListItem.ingredient_id == Ingredient.id)
        .filter(ShoppingListItem.user_id == user_id)
    )
    if not include_purchased:
        q = q.filter(ShoppingListItem.is_purchased == False)  # noqa: E712
    if category:
        q = q.filter(Ingredient.category == category)
    rows = q.order_by(Ingredient.category.asc(), Ingredient.name.asc()).all()
    return [
        ShoppingListItemModel(
            id=item.id,
            ingredient_id=ing.id,
            ingredient_name=ing.name,
            category=ing.category,
            quantity=round(item.quantity, 2),
            unit=item.unit,
            is_purchased=bool(item.is_purchased),
            source=item.source,
        )
        for item, ing in rows
    ]


# ---------------------------------------------------------------------------
# Recipes
# ---------------------------------------------------------------------------


@app.get(
    "/api/recipes",
    response_model=RecipeSearchResponse,
    summary="Search recipes",
    description="Search recipes by title keyword and cuisine, with filters for vegetarian dishes, total cooking time and minimum rating.",
    tags=["recipes"],
    operation_id="search_recipes",
)
async def search_recipes(
    query: Optional[str] = Query(None, description="Keyword matched against recipe titles and descriptions.", example="curry"),
    cuisine: Optional[str] = Query(None, description="Only return recipes of this cuisine (case-insensitive).", example="Indian"),
    vegetarian_only: bool = Query(False, description="If true, only return vegetarian recipes.", example=True),
    max_total_minutes: Optional[int] = Query(None, description="Maximum preparation plus cooking time in minutes.", example=45),
    min_rating: Optional[float] = Query(None, description="Minimum average rating from 0 to 5.", example=4.0),
    limit: int = Query(10, ge=1, le=50, description="Maximum number of recipes to return.", example=10),
) -> RecipeSearchResponse:
    session = SessionLocal()
    q = session.query(Recipe)
    if query:
        pattern = f"%{query}%"
        q = q.filter(Recipe.title.ilike(pattern) | Recipe.description.ilike(pattern))
    if cuisine:
        q = q.filter(Recipe.cuisine.ilike(cuisine))
    if vegetarian_only:
        q = q.filter(Recipe.is_vegetarian == True)  # noqa: E712
    if max_total_minutes is not None:
        q = q.filter((Recipe.prep_minutes + Recipe.cook_minutes) <= max_total_minutes)
    if min_rating is not None:
        q = q.filter(Recipe.average_rating >= min_rating)
    recipes = [recipe_summary(r) for r in q.order_by(Recipe.average_rating.desc(), Recipe.title.asc()).limit(limit).all()]
    session.close()
    return RecipeSearchResponse(recipes=recipes)


@app.get(
    "/api/recipes/{recipe_id}",
    response_model=RecipeDetailResponse,
    summary="Get a recipe",
    description="Retrieve a recipe's instructions and ingredient list, scaling every ingredient quantity to the requested number of servings.",
    tags=["recipes"],
    operation_id="get_recipe",
)
async def get_recipe(
    recipe_id: int = Path(..., description="ID of the recipe to retrieve.", example=2),
    servings: Optional[int] = Query(None, ge=1, le=50, description="Scale ingredient quantities to this many servings; defaults to the recipe's own yield.", example=6),
) -> RecipeDetailResponse:
    session = SessionLocal()
    recipe = session.query(Recipe).filter(Recipe.id == recipe_id).first()
    if recipe is None:
        session.close()
        raise HTTPException(status_code=404, detail="Recipe not found")
    target = servings or recipe.servings
    factor = target / recipe.servings
    rows = (
        session.query(RecipeIngredient, Ingredient)
        .join(Ingredient, RecipeIngredient.ingredient_id == Ingredient.id)
        .filter(RecipeIngredient.recipe_id == recipe.id)
        .order_by(Ingredient.name.asc())
        .all()
    )
    ingredients = [
        RecipeIngredientModel(
            ingredient_id=ing.id,
            name=ing.name,
            quantity=round(ri.quantity * factor, 2),
            unit=ri.unit,
            note=ri.note,
        )
        for ri, ing in rows
    ]
    detail = RecipeDetailModel(
        id=recipe.id,
        title=recipe.title,
        description=recipe.description,
        cuisine=recipe.cuisine,
        base_servings=recipe.servings,
        servings=target,
        prep_minutes=recipe.prep_minutes or 0,
        cook_minutes=recipe.cook_minutes or 0,
        is_vegetarian=bool(recipe.is_vegetarian),
        average_rating=recipe.average_rating or 0.0,
        instructions=recipe.instructions,
        ingredients=ingredients,
    )
    session.close()
    return RecipeDetailResponse(recipe=detail)


@app.get(
    "/api/ingredients/matching-recipes",
    response_model=RecipeMatchResponse,
    summary="Find recipes by ingredients",
    description="Find recipes that use the given ingredient IDs, either any of them or all of them, and list what else each recipe needs.",
    tags=["recipes", "ingredients"],
    operation_id="find_recipes_by_ingredients",
)
async def find_recipes_by_ingredients(
    ingredient_ids: List[int] = Query(..., description="Ingredient IDs the user has on hand.", example=[3, 5]),
    match_all: bool = Query(False, description="If true, only return recipes that use every given ingredient.", example=False),
    limit: int = Query(10, ge=1, le=50, description="Maximum number of recipes to return.", example=5),
) -> RecipeMatchResponse:
    session = SessionLocal()
    wanted = set(ingredient_ids)
    rows = (
        session.query(RecipeIngredient, Ingredient)
        .join(Ingredient, RecipeIngredient.ingredient_id == Ingredient.id)
        .all()
    )
    by_recipe: Dict[int, List[Tuple[int, str]]] = {}
    for ri, ing in rows:
        by_recipe.setdefault(ri.recipe_id, []).append((ing.id, ing.name))
    matches: List[Tuple[int, Recipe, List[int], List[str]]] = []
    for recipe_id, ings in by_recipe.items():
        matched = sorted(i for i, _ in ings if i in wanted)
        if not matched or (match_all and len(matched) < len(wanted)):
            continue
        recipe = session.query(Recipe).filter(Recipe.id == recipe_id).first()
        if recipe is None:
            continue
        missing = sorted(name for i, name in ings if i not in wanted)
        matches.append((len(matched), recipe, matched, missing))
    matches.sort(key=lambda m: (-m[0], len(m[3]), -(m[1].average_rating or 0.0)))
    result = RecipeMatchResponse(
        recipes=[
            RecipeMatchModel(recipe_id=r.id, title=r.title, matched_ingredient_ids=matched, missing_ingredients=missing)
            for _, r, matched, missing in matches[:limit]
        ]
    )
    session.close()
    return result


# ---------------------------------------------------------------------------
# Meal plans
# ---------------------------------------------------------------------------


@app.get(
    "/api/meal-plans",
    response_model=MealPlanListResponse,
    summary="List my upcoming meals",
    description="List the meals the current user has planned from today through the next N days, optionally only one meal type.",
    tags=["meal_plans"],
    operation_id="list_meal_plan",
)
async def list_meal_plan(
    days_ahead: int = Query(7, ge=0, le=60, description="Number of days after today to include.", example=7),
    meal_type: Optional[str] = Query(None, description="Only return this meal type (breakfast, lunch, dinner, snack).", example="dinner"),
) -> MealPlanListResponse:
    session = SessionLocal()
    user_id = 1
    today = now_utc().date()
    q = (
        session.query(MealPlan, Recipe)
        .join(Recipe, MealPlan.recipe_id == Recipe.id)
        .filter(
            MealPlan.user_id == user_id,
            MealPlan.planned_date >= today,
            MealPlan.planned_date <= today + timedelta(days=days_ahead),
        )
    )
    if meal_type:
        q = q.filter(MealPlan.meal_type == meal_type)
    rows = q.order_by(MealPlan.planned_date.asc(), MealPlan.meal_type.asc()).all()
    result = MealPlanListResponse(entries=[meal_plan_model(e, r) for e, r in rows])
    session.close()
    return result


@app.post(
    "/api/meal-plans",
    response_model=MealPlanEntryResponse,
    summary="Plan a meal",
    description="Schedule a recipe for a given date and meal type in the current user's meal plan.",
    tags=["meal_plans"],
    operation_id="add_meal_plan_entry",
)
async def add_meal_plan_entry(
    body: MealPlanCreateBody = Body(..., description="Meal to plan."),
) -> MealPlanEntryResponse:
    session = SessionLocal()
    user_id = 1
    recipe = session.query(Recipe).filter(Recipe.id == body.recipe_id).first()
    if recipe is None:
        session.close()
        raise HTTPException(status_code=404, detail="Recipe not found")
    if body.meal_type not in MEAL_TYPES:
        session.close()
        raise HTTPException(status_code=400, detail="Invalid meal type")
    user = session.query(User).filter(User.id == user_id).first()
    servings = body.servings or (user.household_size if user else recipe.servings)
    entry = MealPlan(
        user_id=user_id,
        recipe_id=recipe.id,
        planned_date=body.planned_date,
        meal_type=body.meal_type,
        servings=servings,
        notes=body.notes,
        created_at=now_utc(),
        updated_at=now_utc(),
    )
    session.add(entry)
    session.commit()
    session.refresh(entry)
    result = MealPlanEntryResponse(entry=meal_plan_model(entry, recipe))
    session.close()
    return result


@app.patch(
    "/api/meal-plans/{entry_id}",
    response_model=MealPlanEntryResponse,
    summary="Reschedule or resize a planned meal",
    description="Move a planned meal to another date or meal type, or change its servings; only the fields provided are modified.",
    tags=["meal_plans"],
    operation_id="update_meal_plan_entry",
)
async def update_meal_plan_entry(
    entry_id: int = Path(..., description="ID of the meal plan entry to change.", example=1),
    body: MealPlanUpdateBody = Body(..., description="Fields to change."),
) -> MealPlanEntryResponse:
    session = SessionLocal()
    user_id = 1
    entry = session.query(MealPlan).filter(MealPlan.id == entry_id, MealPlan.user_id == user_id).first()
    if entry is None:
        session.close()
        raise HTTPException(status_code=404, detail="Meal plan entry not found")
    if body.meal_type is not None:
        if body.meal_type not in MEAL_TYPES:
            session.close()
            raise HTTPException(status_code=400, detail="Invalid meal type")
        entry.meal_type = body.meal_type
    if body.planned_date is not None:
        entry.planned_date = body.planned_date
    if body.servings is not None:
        entry.servings = body.servings
    entry.updated_at = now_utc()
    session.commit()
    session.refresh(entry)
    recipe = session.query(Recipe).filter(Recipe.id == entry.recipe_id).first()
    result = MealPlanEntryResponse(entry=meal_plan_model(entry, recipe))
    session.close()
    return result


@app.delete(
    "/api/meal-plans/{entry_id}",
    response_model=MealPlanDeleteResponse,
    summary="Remove a planned meal",
    description="Delete one entry from the current user's meal plan.",
    tags=["meal_plans"],
    operation_id="delete_meal_plan_entry",
)
async def delete_meal_plan_entry(
    entry_id: int = Path(..., description="ID of the meal plan entry to delete.", example=2),
) -> MealPlanDeleteResponse:
    session = SessionLocal()
    user_id = 1
    entry = session.query(MealPlan).filter(MealPlan.id == entry_id, MealPlan.user_id == user_id).first()
    if entry is None:
        session.close()
        raise HTTPException(status_code=404, detail="Meal plan entry not found")
    session.delete(entry)
    session.commit()
    session.close()
    return MealPlanDeleteResponse(status="deleted", entry_id=entry_id)


# ---------------------------------------------------------------------------
# Shopping list
# ---------------------------------------------------------------------------


@app.post(
    "/api/shopping-list/generate",
    response_model=ShoppingListGenerateResponse,
    summary="Build shopping list from meal plan",
    description="Add the ingredients of every meal planned in the coming days to the shopping list, scaled by servings and merged with existing items.",
    tags=["shopping_list"],
    operation_id="generate_shopping_list",
)
async def generate_shopping_list(
    body: ShoppingListGenerateBody = Body(..., description="Generation options."),
) -> ShoppingListGenerateResponse:
    session = SessionLocal()
    user_id = 1
    today = now_utc().date()
    removed = 0
    if body.clear_existing:
        removed = (
            session.query(ShoppingListItem)
            .filter(
                ShoppingListItem.user_id == user_id,
                ShoppingListItem.source == "meal_plan",
                ShoppingListItem.is_purchased == False,  # noqa: E712
            )
            .delete(synchronize_session=False)
        )
    entries = (
        session.query(MealPlan, Recipe)
        .join(Recipe, MealPlan.recipe_id == Recipe.id)
        .filter(
            MealPlan.user_id == user_id,
            MealPlan.planned_date >= today,
            MealPlan.planned_date <= today + timedelta(days=body.days_ahead),
        )
        .all()
    )
    excluded = set(body.exclude_ingredient_ids or [])
    totals: Dict[Tuple[int, str], float] = {}
    for entry, recipe in entries:
        factor = entry.servings / recipe.servings
        for ri in session.query(RecipeIngredient).filter(RecipeIngredient.recipe_id == recipe.id).all():
            if ri.ingredient_id in excluded:
                continue
            key = (ri.ingredient_id, ri.unit)
            totals[key] = totals.get(key, 0.0) + ri.quantity * factor
    for (ingredient_id, unit), qty in totals.items():
        existing = (
            session.query(ShoppingListItem)
            .filter(
                ShoppingListItem.user_id == user_id,
                ShoppingListItem.ingredient_id == ingredient_id,
                ShoppingListItem.unit == unit,
                ShoppingListItem.is_purchased == False,  # noqa: E712
            )
            .first()
        )
        if existing is not None:
            existing.quantity = round(existing.quantity + qty, 2)
            existing.updated_at = now_utc()
        else:
            session.add(
                ShoppingListItem(
                    user_id=user_id,
                    ingredient_id=ingredient_id,
                    quantity=round(qty, 2),
                    unit=unit,
                    is_purchased=False,
                    source="meal_plan",
                    created_at=now_utc(),
                    updated_at=now_utc(),
                )
            )
    session.commit()
    result = ShoppingListGenerateResponse(meals_included=len(entries), removed_count=removed, items=shopping_items(session, user_id))
    session.close()
    return result


@app.get(
    "/api/shopping-list",
    response_model=ShoppingListResponse,
    summary="View my shopping list",
    description="Show the current user's shopping list grouped by store category, hiding purchased items unless asked.",
    tags=["shopping_list"],
    operation_id="get_shopping_list",
)
async def get_shopping_list(
    include_purchased: bool = Query(False, description="If true, items already marked as purchased are included.", example=False),
    category: Optional[str] = Query(None, description="Only return items of this store category (produce, dairy, pantry, meat, spices, bakery).", example="produce"),
) -> ShoppingListResponse:
    session = SessionLocal()
    user_id = 1
    items = shopping_items(session, user_id, include_purchased=include_purchased, category=category)
    session.close()
    return ShoppingListResponse(items=items)


@app.put(
    "/api/shopping-list/items/{item_id}",
    response_model=ShoppingListItemResponse,
    summary="Update a shopping list item",
    description="Overwrite the quantity, unit and purchased flag of one item on the current user's shopping list.",
    tags=["shopping_list"],
    operation_id="update_shopping_list_item",
)
async def update_shopping_list_item(
    item_id: int = Path(..., description="ID of the shopping list item to overwrite.", example=1),
    body: ShoppingListItemUpdateBody = Body(..., description="Replacement values."),
) -> ShoppingListItemResponse:
    session = SessionLocal()
    user_id = 1
    item = session.query(ShoppingListItem).filter(ShoppingListItem.id == item_id, ShoppingListItem.user_id == user_id).first()
    if item is None:
        session.close()
        raise HTTPException(status_code=404, detail="Shopping list item not found")
    item.quantity = body.quantity
    item.unit = body.unit
    item.is_purchased = body.is_purchased
    item.updated_at = now_utc()
    session.commit()
    matches = [i for i in shopping_items(session, user_id) if i.id == item.id]
    session.close()
    return ShoppingListItemResponse(item=matches[0])


if __name__ == "__main__":
    import uvicorn

    host = os.getenv("HOST", "127.0.0.1")
    port = int(os.getenv("PORT", "8000"))
    uvicorn.run(app, host=host, port=port)
