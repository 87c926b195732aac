from fastapi import FastAPI, HTTPException, Query, Path, Body
from pydantic import BaseModel, Field, ConfigDict
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

database_url = os.getenv("DATABASE_PATH", "sqlite:///./bookstore_1.db")

engine = create_engine(database_url, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    username = Column(String, unique=True, nullable=False)
    email = Column(String, unique=True, nullable=False)
    full_name = Column(String)
    default_shipping_address = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)


class Author(Base):
    __tablename__ = "authors"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    bio = Column(Text)
    nationality = Column(String)
    created_at = Column(DateTime, default=datetime.utcnow)


class Book(Base):
    __tablename__ = "books"
    __table_args__ = (CheckConstraint("price >= 0"), CheckConstraint("stock_quantity >= 0"))
    id = Column(Integer, primary_key=True)
    author_id = Column(Integer, ForeignKey("authors.id", ondelete="CASCADE"), nullable=False)
    title = Column(String, nullable=False)
    isbn = Column(String, unique=True, nullable=False)
    publisher = Column(String)
    genre = Column(String)
    published_year = Column(Integer)
    price = Column(Float, nullable=False)
    stock_quantity = Column(Integer, nullable=False, default=0)
    average_rating = Column(Float, nullable=False, default=0.0)
    review_count = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class Cart(Base):
    __tablename__ = "carts"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("cart_id", "book_id"), CheckConstraint("quantity > 0"))
    id = Column(Integer, primary_key=True)
    cart_id = Column(Integer, ForeignKey("carts.id", ondelete="CASCADE"), nullable=False)
    book_id = Column(Integer, ForeignKey("books.id", ondelete="CASCADE"), nullable=False)
    quantity = Column(Integer, nullable=False, default=1)
    added_at = Column(DateTime, default=datetime.utcnow)


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    status = Column(String, nullable=False, default="pending")
    subtotal = Column(Float, nullable=False)
    gift_wrap = Column(Boolean, nullable=False, default=False)
    total_amount = Column(Float, nullable=False)
    shipping_address = Column(Text, nullable=False)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class OrderItem(Base):
    __tablename__ = "order_items"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    book_id = Column(Integer, ForeignKey("books.id"), nullable=False)
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Float, nullable=False)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("user_id", "book_id"), CheckConstraint("rating BETWEEN 1 AND 5"))
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    book_id = Column(Integer, ForeignKey("books.id", ondelete="CASCADE"), nullable=False)
    rating = Column(Integer, nullable=False)
    title = Column(String)
    content = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


Index("idx_books_author_id", Book.author_id)
Index("idx_books_title", Book.title)
Index("idx_books_genre_price", Book.genre, Book.price)
Index("idx_cart_items_cart_id", CartItem.cart_id)
Index("idx_orders_user_created", Order.user_id, Order.created_at.desc())
Index("idx_order_items_order_id", OrderItem.order_id)
Index("idx_reviews_book_id", Review.book_id)

Base.metadata.create_all(engine)

app = FastAPI(title="Bookstore API", version="1.0.0")

GIFT_WRAP_FEE = 4.99


def now_utc() -> datetime:
    return datetime.utcnow()


# ---------------------------------------------------------------------------
# Pydantic models
# ---------------------------------------------------------------------------


class BookSummaryModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int = Field(..., description="Book ID.", example=3)
    title: str = Field(..., description="Book title.", example="The Left Hand of Darkness")
    author_id: int = Field(..., description="ID of the book's author.", example=3)
    author_name: str = Field(..., description="Display name of the author.", example="Ursula K. Le Guin")
    publisher: Optional[str] = Field(None, description="Publisher name.", example="Ace Books")
    genre: Optional[str] = Field(None, description="Primary genre of the book.", example="Science Fiction")
    published_year: Optional[int] = Field(None, description="Year of first publication.", example=1969)
    price: float = Field(..., description="Current list price in USD.", example=16.99)
    stock_quantity: int = Field(..., description="Copies currently in stock.", example=20)
    average_rating: float = Field(..., description="Average review rating (0-5).", example=4.5)


class BookSearchResponse(BaseModel):
    books: List[BookSummaryModel] = Field(..., description="Books matching the search filters.", example=[])


class AuthorModel(BaseModel):
    id: int = Field(..., description="Author ID.", example=3)
    name: str = Field(..., description="Author display name.", example="Ursula K. Le Guin")
    bio: Optional[str] = Field(None, description="Short author biography.", example="American author of speculative fiction.")
    nationality: Optional[str] = Field(None, description="Author nationality.", example="American")


class ReviewModel(BaseModel):
    id: int = Field(..., description="Review ID.", example=1)
    book_id: int = Field(..., description="Reviewed book ID.", example=3)
    user_id: int = Field(..., description="ID of the reviewing user.", example=1)
    username: Optional[str] = Field(None, description="Username of the reviewer.", example="reader_one")
    rating: int = Field(..., description="Star rating from 1 to 5.", example=5)
    title: Optional[str] = Field(None, description="Review headline.", example="A masterpiece")
    content: Optional[str] = Field(None, description="Full review text.", example="Beautifully written and thought-provoking.")
    created_at: Optional[datetime] = Field(None, description="Review creation timestamp (ISO 8601).", example="2024-05-01T10:00:00Z")
    updated_at: Optional[datetime] = Field(None, description="Review last update timestamp (ISO 8601).", example="2024-05-02T10:00:00Z")


class BookDetailModel(BaseModel):
    id: int = Field(..., description="Book ID.", example=1)
    title: str = Field(..., description="Book title.", example="Designing Data-Intensive Applications")
    isbn: str = Field(..., description="ISBN-13 of the book.", example="978-1449373320")
    publisher: Optional[str] = Field(None, description="Publisher name.", example="O'Reilly Media")
    genre: Optional[str] = Field(None, description="Primary genre.", example="Computer Science")
    published_year: Optional[int] = Field(None, description="Year of first publication.", example=2017)
    price: float = Field(..., description="Current list price in USD.", example=45.99)
    stock_quantity: int = Field(..., description="Copies currently in stock.", example=12)
    average_rating: float = Field(..., description="Average review rating (0-5).", example=4.8)
    review_count: int = Field(..., description="Number of reviews.", example=2)
    author: AuthorModel = Field(..., description="Author of the book.")


class BookDetailResponse(BaseModel):
    book: BookDetailModel = Field(..., description="Full book details including the author.")
    recent_reviews: List[ReviewModel] = Field(..., description="Up to five most recent reviews of the book.", example=[])


class AuthorBooksResponse(BaseModel):
    author: AuthorModel = Field(..., description="The author.")
    books: List[BookSummaryModel] = Field(..., description="Books written by the author.", example=[])


class CartItemModel(BaseModel):
    item_id: int = Field(..., description="Cart item ID.", example=1)
    book_id: int = Field(..., description="Book ID.", example=1)
    title: str = Field(..., description="Book title.", example="Designing Data-Intensive Applications")
    unit_price: float = Field(..., description="Current unit price in USD.", example=45.99)
    quantity: int = Field(..., description="Quantity in the cart.", example=1)
    line_total: float = Field(..., description="unit_price * quantity.", example=45.99)
    added_at: Optional[datetime] = Field(None, description="When the item was added (ISO 8601).", example="2024-05-01T10:00:00Z")


class CartResponse(BaseModel):
    cart_id: Optional[int] = Field(None, description="Cart ID of the current user.", example=1)
    items: List[CartItemModel] = Field(..., description="Items currently in the cart.", example=[])
    item_count: int = Field(..., description="Total number of copies in the cart.", example=4)
    subtotal: float = Field(..., description="Sum of line totals in USD.", example=99.96)


class CartItemAddBody(BaseModel):
    book_id: int = Field(..., description="ID of the book to add to the cart.", example=9)
    quantity: int = Field(1, ge=1, description="Number of copies to add; merged with any existing quantity.", example=1)


class CartItemQuantityBody(BaseModel):
    quantity: int = Field(..., ge=1, description="New quantity for the cart item.", example=3)


class CartItemResponse(BaseModel):
    item: CartItemModel = Field(..., description="The created or updated cart item.")
    cart_subtotal: float = Field(..., description="Cart subtotal after the change, in USD.", example=129.95)


class CartItemDeleteResponse(BaseModel):
    status: str = Field(..., description="Result of the operation.", example="removed")
    item_id: int = Field(..., description="ID of the removed cart item.", example=3)


class OrderCreateBody(BaseModel):
    shipping_address: Optional[str] = Field(
        None,
        description="Shipping address for the order; defaults to the user's saved address.",
        example="742 Evergreen Terrace, Springfield, OR 97403",
    )
    gift_wrap: bool = Field(False, description="Whether to gift wrap the order (adds a 4.99 USD fee).", example=True)
    cart_item_ids: Optional[List[int]] = Field(
        None,
        description="IDs of cart items to check out; all cart items are ordered when omitted.",
        example=[1, 2],
    )


class OrderItemModel(BaseModel):
    book_id: int = Field(..., description="Ordered book ID.", example=1)
    title: str = Field(..., description="Ordered book title.", example="Designing Data-Intensive Applications")
    quantity: int = Field(..., description="Number of copies ordered.", example=1)
    unit_price: float = Field(..., description="Unit price charged in USD.", example=45.99)


class OrderModel(BaseModel):
    id: int = Field(..., description="Order ID.", example=6)
    status: str = Field(..., description="Order status (pending, paid, shipped, delivered, cancelled).", example="pending")
    subtotal: float = Field(..., description="Sum of item prices in USD.", example=83.97)
    gift_wrap: bool = Field(..., description="Whether the order is gift wrapped.", example=True)
    total_amount: float = Field(..., description="Total charged in USD including fees.", example=88.96)
    shipping_address: str = Field(..., description="Shipping address.", example="742 Evergreen Terrace, Springfield, OR 97403")
    created_at: Optional[datetime] = Field(None, description="Order creation timestamp (ISO 8601).", example="2024-05-01T10:00:00Z")
    items: List[OrderItemModel] = Field(..., description="Items in the order.", example=[])


class OrderResponse(BaseModel):
    order: OrderModel = Field(..., description="The created order.")


class OrderListResponse(BaseModel):
    orders: List[OrderModel] = Field(..., description="Orders of the current user, newest first.", example=[])


class ReviewCreateBody(BaseModel):
    rating: int = Field(..., ge=1, le=5, description="Star rating from 1 to 5.", example=5)
    title: Optional[str] = Field(None, description="Short review headline.", example="Devastating and essential")
    content: Optional[str] = Field(None, description="Full text of the review.", example="Butler makes history feel terrifyingly close.")


class ReviewUpdateBody(BaseModel):
    rating: int = Field(..., ge=1, le=5, description="New star rating from 1 to 5.", example=4)
    title: str = Field(..., description="New review headline.", example="Still great on a reread")
    content: str = Field(..., description="New full text of the review.", example="The ambiguity of Anarres and Urras holds up.")


class ReviewResponse(BaseModel):
    review: ReviewModel = Field(..., description="The review.")
    book_average_rating: float = Field(..., description="Book's average rating after the change.", example=4.5)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def book_summary(book: Book, author: Author) -> BookSummaryModel:
    return BookSummaryModel(
        id=book.id,
        title=book.title,
        author_id=book.author_id,
        author_name=author.name,
        publisher=book.publisher,
        genre=book.genre,
        published_year=book.published_year,
        price=book.price,
        stock_quantity=book.stock_quantity,
        average_rating=book.average_rating or 0.0,
    )


def author_model(author: Author) -> AuthorModel:
    return AuthorModel(id=author.id, name=author.name, bio=author.bio, nationality=author.nationality)


def review_model(review: Review, username: Optional[str]) -> ReviewModel:
    return ReviewModel(
        id=review.id,
        book_id=review.book_id,
        user_id=review.user_id,
        username=username,
        rating=review.rating,
        title=review.title,
        content=review.content,
        created_at=review.created_at,
        updated_at=review.updated_at,
    )


def cart_item_model(item: CartItem, book: Book) -> CartItemModel:
    return CartItemModel(
        item_id=item.id,
        book_id=book.id,
        title=book.title,
        unit_price=book.price,
        quantity=item.quantity,
        line_total=round(book.price * item.quantity, 2),
        added_at=item.added_at,
    )


def cart_subtotal(session, cart_id: int) -> float:
    rows = (
        session.query(CartItem, Book)
        .join(Book, CartItem.book_id == Book.id)
        .filter(CartItem.cart_id == cart_id)
        .all()
    )
    return round(sum(b.price * ci.quantity for ci, b in rows), 2)


def refresh_book_rating(session, book: Book) -> None:
    avg, cnt = session.query(func.avg(Review.rating), func.count(Review.id)).filter(Review.book_id == book.id).one()
    book.average_rating = round(float(avg), 2) if avg is not None else 0.0
    book.review_count = int(cnt or 0)
    book.updated_at = now_utc()


def order_model(session, order: Order) -> OrderModel:
    rows = (
        session.query(OrderItem, Book)
        .join(Book, OrderItem.book_id == Book.id)
        .filter(OrderItem.order_id == order.id)
        .all()
    )
    items = [
        OrderItemModel(book_id=b.id, title=b.title, quantity=oi.quantity, unit_price=oi.unit_price)
        for oi, b in rows
    ]
    return OrderModel(
        id=order.id,
        status=order.status,
        subtotal=order.subtotal,
        gift_wrap=bool(order.gift_wrap),
        total_amount=order.total_amount,
        shipping_address=order.shipping_address,
        created_at=order.created_at,
        items=items,
    )


# ---------------------------------------------------------------------------
# Books & authors
# ---------------------------------------------------------------------------


@app.get(
    "/api/books",
    response_model=BookSearchResponse,
    summary="Search books",
    description="Search books by title or author name, optionally filtering by genre, maximum price and stock availability.",
    tags=["books"],
    operation_id="search_books",
)
async def search_books(
    query: Optional[str] = Query(None, description="Case-insensitive text matched against book titles and author names.", example="Le Guin"),
    genre: Optional[str] = Query(None, description="Only return books of this genre (exact, case-insensitive).", example="Science Fiction"),
    max_price: Optional[float] = Query(None, description="Only return books priced at or below this amount in USD.", example=20.0),
    in_stock_only: bool = Query(False, description="If true, exclude books with zero copies in stock.", example=True),
    limit: int = Query(10, ge=1, le=50, description="Maximum number of books to return.", example=10),
) -> BookSearchResponse:
    session = SessionLocal()
    q = session.query(Book, Author).join(Author, Book.author_id == Author.id)
    if query:
        pattern = f"%{query}%"
        q = q.filter((Book.title.ilike(pattern)) | (Author.name.ilike(pattern)))
    if genre:
        q = q.filter(func.lower(Book.genre) == genre.lower())
    if max_price is not None:
        q = q.filter(Book.price <= max_price)
    if in_stock_only:
        q = q.filter(Book.stock_quantity > 0)
    rows = q.order_by(Book.average_rating.desc(), Book.title.asc()).limit(limit).all()
    books = [book_summary(b, a) for b, a in rows]
    session.close()
    return BookSearchResponse(books=books)


@app.get(
    "/api/books/{book_id}",
    response_model=BookDetailResponse,
    summary="Get book details",
    description="Retrieve full details for one book, including its author and the five most recent reviews.",
    tags=["books"],
    operation_id="get_book_details",
)
async def get_book_details(
    book_id: int = Path(..., description="ID of the book to retrieve.", example=1),
) -> BookDetailResponse:
    session = SessionLocal()
    row = (
        session.query(Book, Author)
        .join(Author, Book.author_id == Author.id)
        .filter(Book.id == book_id)
        .first()
    )
    if row is None:
        session.close()
        raise HTTPException(status_code=404, detail="Book not found")
    book, author = row
    review_rows = (
        session.query(Review, User)
        .join(User, Review.user_id == User.id)
        .filter(Review.book_id == book.id)
        .order_by(Review.created_at.desc())
        .limit(5)
        .all()
    )
    detail = BookDetailModel(
        id=book.id,
        title=book.title,
        isbn=book.isbn,
        publisher=book.publisher,
        genre=book.genre,
        published_year=book.published_year,
        price=book.price,
        stock_quantity=book.stock_quantity,
        average_rating=book.average_rating or 0.0,
        review_count=book.review_count or 0,
        author=author_model(author),
    )
    reviews = [review_model(r, u.username) for r, u in review_rows]
    session.close()
    return BookDetailResponse(book=detail, recent_reviews=reviews)


@app.get(
    "/api/authors/{author_id}/books",
    response_model=AuthorBooksResponse,
    summary="List an author's books",
    description="List every book written by an author, sorted by publication year, price or rating.",
    tags=["authors", "books"],
    operation_id="list_author_books",
)
async def list_author_books(
    author_id: int = Path(..., description="ID of the author whose books are listed.", example=3),
    sort_by: str = Query("year", description="Sort key: 'year' (oldest first), 'price' (cheapest first) or 'rating' (best first).", example="rating"),
) -> AuthorBooksResponse:
    session = SessionLocal()
    author = session.query(Author).filter(Author.id == author_id).first()
    if author is None:
        session.close()
        raise HTTPException(status_code=404, detail="Author not found")
    q = session.query(Book).filter(Book.author_id == author.id)
    if sort_by == "price":
        q = q.order_by(Book.price.asc())
    elif sort_by == "rating":
        q = q.order_by(Book.average_rating.desc())
    else:
        q = q.order_by(Book.published_year.asc())
    books = [book_summary(b, author) for b in q.all()]
    result = AuthorBooksResponse(author=author_model(author), books=books)
    session.close()
    return result


# ---------------------------------------------------------------------------
# Cart
# ---------------------------------------------------------------------------


@app.get(
    "/api/cart",
    response_model=CartResponse,
    summary="View my shopping cart",
    description="Show the current user's shopping cart with each item's price, quantity, line total and the cart subtotal.",
    tags=["cart"],
    operation_id="get_my_cart",
)
async def get_my_cart() -> CartResponse:
    session = SessionLocal()
    user_id = 1
    cart = session.query(Cart).filter(Cart.user_id == user_id).first()
    if cart is None:
        session.close()
        return CartResponse(cart_id=None, items=[], item_count=0, subtotal=0.0)
    rows = (
        session.query(CartItem, Book)
        .join(Book, CartItem.book_id == Book.id)
        .filter(CartItem.cart_id == cart.id)
        .order_by(CartItem.added_at.asc())
        .all()
    )
    items = [cart_item_model(ci, b) for ci, b in rows]
    subtotal = round(sum(i.line_total for i in items), 2)
    count = sum(i.quantity for i in items)
    session.close()
    return CartResponse(cart_id=cart.id, items=items, item_count=count, subtotal=subtotal)


@app.post(
    "/api/cart/items",
    response_model=CartItemResponse,
    summary="Add a book to my cart",
    description="Add copies of a book to the current user's cart, merging with an existing line for the same book.",
    tags=["cart"],
    operation_id="add_book_to_cart",
)
async def add_book_to_cart(
    body: CartItemAddBody = Body(..., description="Book and quantity to add."),
) -> CartItemResponse:
    session = SessionLocal()
    user_id = 1
    book = session.query(Book).filter(Book.id == body.book_id).first()
    if book is None:
        session.close()
        raise HTTPException(status_code=404, detail="Book not found")
    cart = session.query(Cart).filter(Cart.user_id == user_id).first()
    if cart is None:
        cart = Cart(user_id=user_id, created_at=now_utc(), updated_at=now_utc())
        session.add(cart)
        session.flush()
    item = session.query(CartItem).filter(CartItem.cart_id == cart.id, CartItem.book_id == book.id).first()
    new_quantity = body.quantity + (item.quantity if item else 0)
    if new_quantity > book.stock_quantity:
        session.close()
        raise HTTPException(status_code=400, detail="Not enough copies in stock")
    if item is None:
        item = CartItem(cart_id=cart.id, book_id=book.id, quantity=new_quantity, added_at=now_utc())
        session.add(item)
    else:
        item.quantity = new_quantity
    cart.updated_at = now_utc()
    session.commit()
    session.refresh(item)
    result = CartItemResponse(item=cart_item_model(item, book), cart_subtotal=cart_subtotal(session, cart.id))
    session.close()
    return result


@app.patch(
    "/api/cart/items/{item_id}",
    response_model=CartItemResponse,
    summary="Change a cart item's quantity",
    description="Set a new quantity for one line of the current user's cart, checking that enough copies are in stock.",
    tags=["cart"],
    operation_id="update_cart_item_quantity",
)
async def update_cart_item_quantity(
    item_id: int = Path(..., description="ID of the cart item to update.", example=2),
    body: CartItemQuantityBody = Body(..., description="New quantity."),
) -> CartItemResponse:
    session = SessionLocal()
    user_id = 1
    row = (
        session.query(CartItem, Book)
        .join(Cart, CartItem.cart_id == Cart.id)
        .join(Book, CartItem.book_id == Book.id)
        .filter(CartItem.id == item_id, Cart.user_id == user_id)
        .first()
    )
    if row is None:
        session.close()
        raise HTTPException(status_code=404, detail="Cart item not found")
    item, book = row
    if body.quantity > book.stock_quantity:
        session.close()
        raise HTTPException(status_code=400, detail="Not enough copies in stock")
    item.quantity = body.quantity
    session.commit()
    session.refresh(item)
    result = CartItemResponse(item=cart_item_model(item, book), cart_subtotal=cart_subtotal(session, item.cart_id))
    session.close()
    return result


@app.delete(
    "/api/cart/items/{item_id}",
    response_model=CartItemDeleteResponse,
    summary="Remove an item from my cart",
    description="Delete one line from the current user's shopping cart.",
    tags=["cart"],
    operation_id="remove_cart_item",
)
async def remove_cart_item(
    item_id: int = Path(..., description="ID of the cart item to remove.", example=3),
) -> CartItemDeleteResponse:
    session = SessionLocal()
    user_id = 1
    item = (
        session.query(CartItem)
        .join(Cart, CartItem.cart_id == Cart.id)
        .filter(CartItem.id == item_id, Cart.user_id == user_id)
        .first()
    )
    if item is None:
        session.close()
        raise HTTPException(status_code=404, detail="Cart item not found")
    session.delete(item)
    session.commit()
    session.close()
    return CartItemDeleteResponse(status="removed", item_id=item_id)


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------


@app.post(
    "/api/orders",
    response_model=OrderResponse,
    summary="Place an order from my cart",
    description="Check out all or selected cart items into a new order, optionally gift wrapped, and decrement stock.",
    tags=["orders"],
    operation_id="place_order",
)
async def place_order(
    body: OrderCreateBody = Body(..., description="Checkout options."),
) -> OrderResponse:
    session = SessionLocal()
    user_id = 1
    user = session.query(User).filter(User.id == user_id).first()
    cart = session.query(Cart).filter(Cart.user_id == user_id).first()
    if cart is None:
        session.close()
        raise HTTPException(status_code=400, detail="Cart is empty")
    q = session.query(CartItem, Book).join(Book, CartItem.book_id == Book.id).filter(CartItem.cart_id == cart.id)
    if body.cart_item_ids:
        q = q.filter(CartItem.id.in_(body.cart_item_ids))
    rows = q.all()
    if not rows:
        session.close()
        raise HTTPException(status_code=400, detail="Cart is empty")
    if body.cart_item_ids and len(rows) != len(set(body.cart_item_ids)):
        session.close()
        raise HTTPException(status_code=404, detail="Cart item not found")
    address = body.shipping_address or (user.default_shipping_address if user else None)
    if not address:
        session.close()
        raise HTTPException(status_code=400, detail="Shipping address is required")
    for ci, b in rows:
        if ci.quantity > b.stock_quantity:
            session.close()
            raise HTTPException(status_code=400, detail=f"Not enough copies in stock for '{b.title}'")
    subtotal = round(sum(b.price * ci.quantity for ci, b in rows), 2)
    total = round(subtotal + (GIFT_WRAP_FEE if body.gift_wrap else 0.0), 2)
    order = Order(
        user_id=user_id,
        status="pending",
        subtotal=subtotal,
        gift_wrap=body.gift_wrap,
        total_amount=total,
        shipping_address=address,
        created_at=now_utc(),
        updated_at=now_utc(),
    )
    session.add(order)
    session.flush()
    for ci, b in rows:
        session.add(OrderItem(order_id=order.id, book_id=b.id, quantity=ci.quantity, unit_price=b.price))
        b.stock_quantity = b.stock_quantity - ci.quantity
        b.updated_at = now_utc()
        session.delete(ci)
    cart.updated_at = now_utc()
    session.commit()
    session.refresh(order)
    result = OrderResponse(order=order_model(session, order))
    session.close()
    return result


@app.get(
    "/api/orders",
    response_model=OrderListResponse,
    summary="List my orders",
    description="List the current user's past orders with their items, newest first, optionally filtered by status.",
    tags=["orders"],
    operation_id="list_my_orders",
)
async def list_my_orders(
    status: Optional[str] = Query(None, description="Only return orders with this status (pending, paid, shipped, delivered, cancelled).", example="delivered"),
    limit: int = Query(10, ge=1, le=100, description="Maximum number of orders to return.", example=10),
) -> OrderListResponse:
    session = SessionLocal()
    user_id = 1
    q = session.query(Order).filter(Order.user_id == user_id)
    if status:
        q = q.filter(Order.status == status)
    orders = [order_model(session, o) for o in q.order_by(Order.created_at.desc()).limit(limit).all()]
    session.close()
    return OrderListResponse(orders=orders)


# ---------------------------------------------------------------------------
# Reviews
# ---------------------------------------------------------------------------


@app.post(
    "/api/books/{book_id}/reviews",
    response_model=ReviewResponse,
    summary="Review a book",
    description="Post the current user's star rating and written review for a book and update its average rating.",
    tags=["reviews"],
    operation_id="create_book_review",
)
async def create_book_review(
    book_id: int = Path(..., description="ID of the book being reviewed.", example=7),
    body: ReviewCreateBody = Body(..., description="Review content."),
) -> ReviewResponse:
    session = SessionLocal()
    user_id = 1
    book = session.query(Book).filter(Book.id == book_id).first()
    if book is None:
        session.close()
        raise HTTPException(status_code=404, detail="Book not found")
    existing = session.query(Review).filter(Review.user_id == user_id, Review.book_id == book_id).first()
    if existing is not None:
        session.close()
        raise HTTPException(status_code=409, detail="You have already reviewed this book")
    review = Review(
        user_id=user_id,
        book_id=book_id,
        rating=body.rating,
        title=body.title,
        content=body.content,
        created_at=now_utc(),
        updated_at=now_utc(),
    )
    session.add(review)
    session.flush()
    refresh_book_rating(session, book)
    session.commit()
    session.refresh(review)
    user = session.query(User).filter(User.id == user_id).first()
    result = ReviewResponse(review=review_model(review, user.username if user else None), book_average_rating=book.average_rating)
    session.close()
    return result


@app.put(
    "/api/reviews/{review_id}",
    response_model=ReviewResponse,
    summary="Rewrite my review",
    description="Replace the rating, headline and text of one of the current user's own reviews.",
    tags=["reviews"],
    operation_id="update_my_review",
)
async def update_my_review(
    review_id: int = Path(..., description="ID of the review to replace.", example=1),
    body: ReviewUpdateBody = Body(..., description="Replacement review content."),
) -> ReviewResponse:
    session = SessionLocal()
    user_id = 1
    review = session.query(Review).filter(Review.id == review_id, Review.user_id == user_id).first()
    if review is None:
        session.close()
        raise HTTPException(status_code=404, detail="Review not found")
    review.rating = body.rating
    review.title = body.title
    review.content = body.content
    review.updated_at = now_utc()
    session.flush()
    book = session.query(Book).filter(Book.id == review.book_id).first()
    refresh_book_rating(session, book)
    session.commit()
    session.refresh(review)
    user = session.query(User).filter(User.id == user_id).first()
    result = ReviewResponse(review=review_model(review, user.username if user else None), book_average_rating=book.average_rating)
    session.close()
    return result


if __name__ == "__main__":
    import uvicorn

    host = os.getenv("HOST", "127.0.0.1")
    port = int(os.getenv("PORT", "8000"))
    uvicorn.run(app, host=host, port=port)
