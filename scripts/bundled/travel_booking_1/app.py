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
    Date,
    Float,
    Boolean,
    ForeignKey,
    CheckConstraint,
    UniqueConstraint,
    Index,
)
from sqlalchemy.orm import declarative_base, sessionmaker
from datetime import datetime, date, timedelta
import os

database_url = os.getenv("DATABASE_PATH", "sqlite:///./travel_booking_1.db")

engine = create_engine(database_url, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)

Base = declarative_base()

POINTS_PER_DOLLAR = 10
POINTS_PER_DOLLAR_REDEEMED = 100
TIER_THRESHOLDS = [("blue", 0), ("silver", 25000), ("gold", 50000), ("platinum", 100000)]


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    username = Column(String, unique=True, nullable=False)
    email = Column(String, unique=True, nullable=False)
    full_name = Column(String)
    home_airport = Column(String)
    created_at = Column(DateTime, default=datetime.utcnow)


class Traveler(Base):
    __tablename__ = "travelers"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    first_name = Column(String, nullable=False)
    last_name = Column(String, nullable=False)
    date_of_birth = Column(Date, nullable=False)
    passport_number = Column(String, unique=True)
    nationality = Column(String)
    is_primary = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class Flight(Base):
    __tablename__ = "flights"
    __table_args__ = (UniqueConstraint("flight_number", "departure_time"),)
    id = Column(Integer, primary_key=True)
    airline = Column(String, nullable=False)
    flight_number = Column(String, nullable=False)
    origin = Column(String, nullable=False)
    destination = Column(String, nullable=False)
    departure_time = Column(DateTime, nullable=False)
    arrival_time = Column(DateTime, nullable=False)
    stops = Column(Integer, nullable=False, default=0)
    cabin_class = Column(String, nullable=False, default="economy")
    price = Column(Float, nullable=False)
    seats_available = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, default=datetime.utcnow)


class Hotel(Base):
    __tablename__ = "hotels"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    city = Column(String, nullable=False)
    address = Column(String)
    star_rating = Column(Integer)
    guest_rating = Column(Float)
    nightly_rate = Column(Float, nullable=False)
    amenities = Column(Text)
    rooms_available = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, default=datetime.utcnow)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("booking_type IN ('flight','hotel')"),
        CheckConstraint("status IN ('confirmed','cancelled','completed')"),
    )
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    booking_type = Column(String, nullable=False)
    flight_id = Column(Integer, ForeignKey("flights.id"))
    hotel_id = Column(Integer, ForeignKey("hotels.id"))
    check_in = Column(Date)
    check_out = Column(Date)
    status = Column(String, nullable=False, default="confirmed")
    confirmation_code = Column(String, unique=True, nullable=False)
    total_price = Column(Float, nullable=False)
    amount_paid = Column(Float, nullable=False)
    points_redeemed = Column(Integer, nullable=False, default=0)
    points_earned = Column(Integer, nullable=False, default=0)
    seat_preference = Column(String)
    special_requests = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class BookingTraveler(Base):
    __tablename__ = "booking_travelers"
    booking_id = Column(Integer, ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    traveler_id = Column(Integer, ForeignKey("travelers.id", ondelete="CASCADE"), primary_key=True)


class LoyaltyAccount(Base):
    __tablename__ = "loyalty_accounts"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True)
    program_name = Column(String, nullable=False)
    member_number = Column(String, unique=True, nullable=False)
    tier = Column(String, nullable=False, default="blue")
    points_balance = Column(Integer, nullable=False, default=0)
    lifetime_points_earned = Column(Integer, nullable=False, default=0)
    tier_expires_at = Column(DateTime)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class LoyaltyTransaction(Base):
    __tablename__ = "loyalty_transactions"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("loyalty_accounts.id", ondelete="CASCADE"), nullable=False)
    booking_id = Column(Integer, ForeignKey("bookings.id", ondelete="SET NULL"))
    transaction_type = Column(String, nullable=False)
    points = Column(Integer, nullable=False)
    description = Column(String)
    created_at = Column(DateTime, default=datetime.utcnow)


Index("idx_travelers_user_id", Traveler.user_id)
Index("idx_flights_route_departure", Flight.origin, Flight.destination, Flight.departure_time)
Index("idx_hotels_city", Hotel.city)
Index("idx_bookings_user_created", Booking.user_id, Booking.created_at.desc())
Index("idx_booking_travelers_traveler_id", BookingTraveler.traveler_id)
Index("idx_loyalty_transactions_account_created", LoyaltyTransaction.account_id, LoyaltyTransaction.created_at.desc())

Base.metadata.create_all(engine)

app = FastAPI(title="Travel Booking API", version="1.0.0")


def now_utc() -> datetime:
    return datetime.utcnow()


def make_confirmation_code(booking_id: int) -> str:
    return f"TRV{booking_id:06d}"


# ---------------------------------------------------------------------------
# Pydantic models
# ---------------------------------------------------------------------------


class FlightModel(BaseModel):
    id: int = Field(..., description="Flight ID.", example=1)
    airline: str = Field(..., description="Operating airline.", example="United Airlines")
    flight_number: str = Field(..., description="Flight number.", example="UA 1536")
    origin: str = Field(..., description="Origin airport IATA code.", example="SFO")
    destination: str = Field(..., description="Destination airport IATA code.", example="JFK")
    departure_time: datetime = Field(..., description="Departure time (ISO 8601, UTC).", example="2024-06-10T15:05:00Z")
    arrival_time: datetime = Field(..., description="Arrival time (ISO 8601, UTC).", example="2024-06-10T23:35:00Z")
    duration_minutes: int = Field(..., description="Scheduled flight duration in minutes.", example=330)
    stops: int = Field(..., description="Number of stops (0 for nonstop).", example=0)
    cabin_class: str = Field(..., description="Cabin class (economy, premium_economy, business, first).", example="economy")
    price: float = Field(..., description="Fare per traveler in USD.", example=329.0)
    seats_available: int = Field(..., description="Seats still available.", example=14)


class FlightSearchResponse(BaseModel):
    flights: List[FlightModel] = Field(..., description="Flights matching the search, cheapest first.", example=[])


class HotelModel(BaseModel):
    id: int = Field(..., description="Hotel ID.", example=1)
    name: str = Field(..., description="Hotel name.", example="The Greenwich Loft Hotel")
    city: str = Field(..., description="City of the hotel.", example="New York")
    address: Optional[str] = Field(None, description="Street address.", example="377 Greenwich St, New York, NY 10013")
    star_rating: Optional[int] = Field(None, description="Official star rating (1-5).", example=4)
    guest_rating: Optional[float] = Field(None, description="Average guest rating out of 10.", example=8.9)
    nightly_rate: float = Field(..., description="Nightly rate in USD.", example=289.0)
    amenities: List[str] = Field(..., description="Amenities offered by the hotel.", example=["wifi", "gym", "breakfast"])
    rooms_available: int = Field(..., description="Rooms currently available.", example=6)


class HotelSearchResponse(BaseModel):
    hotels: List[HotelModel] = Field(..., description="Hotels matching the search, best rated first.", example=[])


class TravelerModel(BaseModel):
    id: int = Field(..., description="Traveler ID.", example=1)
    first_name: str = Field(..., description="Given name as on the passport.", example="Maya")
    last_name: str = Field(..., description="Family name as on the passport.", example="Thompson")
    date_of_birth: date = Field(..., description="Date of birth (YYYY-MM-DD).", example="1988-04-12")
    passport_number: Optional[str] = Field(None, description="Passport number.", example="X1234567")
    nationality: Optional[str] = Field(None, description="Nationality (ISO country code).", example="US")
    is_primary: bool = Field(..., description="Whether this is the account holder's own traveler profile.", example=True)


class TravelerListResponse(BaseModel):
    travelers: List[TravelerModel] = Field(..., description="Saved traveler profiles of the current user.", example=[])


class TravelerBody(BaseModel):
    first_name: str = Field(..., description="Given name as on the passport.", example="Leo")
    last_name: str = Field(..., description="Family name as on the passport.", example="Thompson")
    date_of_birth: date = Field(..., description="Date of birth (YYYY-MM-DD).", example="2016-09-03")
    passport_number: Optional[str] = Field(None, description="Passport number; must be unique across travelers.", example="X7654321")
    nationality: Optional[str] = Field(None, description="Nationality (ISO country code).", example="US")
    is_primary: bool = Field(False, description="If true, make this the primary traveler and unset the flag on the others.", example=False)


class TravelerUpdateBody(BaseModel):
    first_name: str = Field(..., description="Given name as on the passport.", example="Daniel")
    last_name: str = Field(..., description="Family name as on the passport.", example="Okafor-Thompson")
    date_of_birth: date = Field(..., description="Date of birth (YYYY-MM-DD).", example="1986-11-23")
    passport_number: Optional[str] = Field(None, description="Renewed passport number; must be unique across travelers.", example="Z9081726")
    nationality: Optional[str] = Field(None, description="Nationality (ISO country code).", example="GB")
    is_primary: bool = Field(False, description="If true, make this the primary traveler and unset the flag on the others.", example=False)


class TravelerResponse(BaseModel):
    traveler: TravelerModel = Field(..., description="The traveler profile.")


class FlightBookingBody(BaseModel):
    flight_id: int = Field(..., description="ID of the flight to book.", example=1)
    traveler_ids: List[int] = Field(..., description="IDs of the saved travelers flying on this booking.", example=[1, 2])
    seat_preference: Optional[str] = Field(None, description="Seat preference: window, aisle or middle.", example="aisle")
    use_loyalty_points: bool = Field(False, description="If true, redeem loyalty points (100 points = 1 USD) toward the fare.", example=True)


class BookingModel(BaseModel):
    id: int = Field(..., description="Booking ID.", example=1)
    confirmation_code: str = Field(..., description="Booking confirmation code.", example="TRV000001")
    booking_type: str = Field(..., description="Booking type (flight or hotel).", example="flight")
    status: str = Field(..., description="Booking status (confirmed, cancelled, completed).", example="confirmed")
    flight_id: Optional[int] = Field(None, description="Booked flight ID for flight bookings.", example=3)
    hotel_id: Optional[int] = Field(None, description="Booked hotel ID for hotel bookings.", example=None)
    description: str = Field(..., description="Human-readable summary of the booking.", example="UA 1536 SFO → JFK")
    start_date: Optional[datetime] = Field(None, description="Departure or check-in time (ISO 8601).", example="2024-06-10T15:05:00Z")
    check_out: Optional[date] = Field(None, description="Check-out date for hotel bookings.", example=None)
    traveler_ids: List[int] = Field(..., description="Travelers on the booking.", example=[1, 2])
    total_price: float = Field(..., description="Total price before points in USD.", example=658.0)
    amount_paid: float = Field(..., description="Amount charged after points in USD.", example=558.0)
    points_redeemed: int = Field(..., description="Loyalty points redeemed.", example=10000)
    points_earned: int = Field(..., description="Loyalty points earned.", example=5580)
    seat_preference: Optional[str] = Field(None, description="Seat preference.", example="aisle")
    special_requests: Optional[str] = Field(None, description="Special requests passed to the airline or hotel.", example="Vegetarian meal")
    created_at: Optional[datetime] = Field(None, description="Booking creation time (ISO 8601).", example="2024-05-01T10:00:00Z")


class BookingResponse(BaseModel):
    booking: BookingModel = Field(..., description="The booking.")


class BookingListResponse(BaseModel):
    bookings: List[BookingModel] = Field(..., description="Bookings of the current user, newest first.", example=[])


class BookingUpdateBody(BaseModel):
    seat_preference: Optional[str] = Field(None, description="New seat preference: window, aisle or middle.", example="window")
    special_requests: Optional[str] = Field(None, description="New special requests text.", example="Vegetarian meal for both travelers")


class BookingCancelResponse(BaseModel):
    booking: BookingModel = Field(..., description="The cancelled booking.")
    refund_amount: float = Field(..., description="Amount refunded to the original payment method in USD.", example=558.0)
    points_refunded: int = Field(..., description="Redeemed points returned to the loyalty account.", example=10000)


class LoyaltyTransactionModel(BaseModel):
    id: int = Field(..., description="Transaction ID.", example=1)
    transaction_type: str = Field(..., description="Type: earn, redeem, refund, bonus or reversal.", example="earn")
    points: int = Field(..., description="Signed number of points.", example=3290)
    description: Optional[str] = Field(None, description="Transaction description.", example="Flight UA 1536 SFO-JFK")
    created_at: Optional[datetime] = Field(None, description="Transaction time (ISO 8601).", example="2024-05-01T10:00:00Z")


class LoyaltySummaryResponse(BaseModel):
    program_name: str = Field(..., description="Loyalty program name.", example="SkyMiles Rewards")
    member_number: str = Field(..., description="Membership number.", example="SR-10443821")
    tier: str = Field(..., description="Current tier (blue, silver, gold, platinum).", example="gold")
    points_balance: int = Field(..., description="Points available to redeem.", example=18450)
    lifetime_points: int = Field(..., description="Total points earned over the lifetime of the account.", example=64210)
    next_tier: Optional[str] = Field(None, description="Next tier, or null at the top tier.", example="platinum")
    points_to_next_tier: int = Field(..., description="Lifetime points still needed to reach the next tier.", example=35790)
    tier_expires_at: Optional[datetime] = Field(None, description="When the current tier expires (ISO 8601).", example="2025-01-31T00:00:00Z")
    recent_transactions: List[LoyaltyTransactionModel] = Field(..., description="Ten most recent point transactions.", example=[])


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def flight_model(f: Flight) -> FlightModel:
    return FlightModel(
        id=f.id,
        airline=f.airline,
        flight_number=f.flight_number,
        origin=f.origin,
        destination=f.destination,
        departure_time=f.departure_time,
        arrival_time=f.arrival_time,
        duration_minutes=int((f.arrival_time - f.departure_time).total_seconds() // 60),
        stops=f.stops,
        cabin_class=f.cabin_class,
        price=f.price,
        seats_available=f.seats_available,
    )


def traveler_model(t: Traveler) -> TravelerModel:
    return TravelerModel(
        id=t.id,
        first_name=t.first_name,
        last_name=t.last_name,
        date_of_birth=t.date_of_birth,
        passport_number=t.passport_number,
        nationality=t.nationality,
        is_primary=bool(t.is_primary),
    )


def booking_model(session, b: Booking) -> BookingModel:
    traveler_ids = [
        r.traveler_id
        for r in session.query(BookingTraveler).filter(BookingTraveler.booking_id == b.id).order_by(BookingTraveler.traveler_id).all()
    ]
    description = ""
    start = None
    if b.booking_type == "flight" and b.flight_id:
        f = session.query(Flight).filter(Flight.id == b.flight_id).first()
        if f is not None:
            description = f"{f.flight_number} {f.origin} → {f.destination}"
            start = f.departure_time
    elif b.booking_type == "hotel" and b.hotel_id:
        h = session.query(Hotel).filter(Hotel.id == b.hotel_id).first()
        if h is not None:
            description = f"{h.name}, {h.city}"
        if b.check_in is not None:
            start = datetime.combine(b.check_in, datetime.min.time())
    return BookingModel(
        id=b.id,
        confirmation_code=b.confirmation_code,
        booking_type=b.booking_type,
        status=b.status,
        flight_id=b.flight_id,
        hotel_id=b.hotel_id,
        description=description,
        start_date=start,
        check_out=b.check_out,
        traveler_ids=traveler_ids,
        total_price=b.total_price,
        amount_paid=b.amount_paid,
        points_redeemed=b.points_redeemed or 0,
        points_earned=b.points_earned or 0,
        seat_preference=b.seat_preference,
        special_requests=b.special_requests,
        created_at=b.created_at,
    )


def tier_for(lifetime_points: int) -> str:
    tier = TIER_THRESHOLDS[0][0]
    for name, threshold in TIER_THRESHOLDS:
        if lifetime_points >= threshold:
            tier = name
    return tier


def check_passport_unique(session, passport_number: Optional[str], exclude_id: Optional[int] = None) -> None:
    if not passport_number:
        return
    q = session.query(Traveler).filter(Traveler.passport_number == passport_number)
    if exclude_id is not None:
        q = q.filter(Traveler.id != exclude_id)
    if q.first() is not None:
        session.close()
        raise HTTPException(status_code=409, detail="Passport number already registered to another traveler")


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------


@app.get(
    "/api/flights/search",
    response_model=FlightSearchResponse,
    summary="Search flights",
    description="Search upcoming flights between two airports departing within the next N days, optionally limited by fare, cabin class and nonstop service.",
    tags=["flights", "search"],
    operation_id="search_flights",
)
async def search_flights(
    origin: str = Query(..., description="Origin airport IATA code.", example="SFO"),
    destination: str = Query(..., description="Destination airport IATA code.", example="JFK"),
    departing_within_days: int = Query(30, ge=1, le=365, description="Only include flights departing within this many days from now.", example=30),
    max_price: Optional[float] = Query(None, description="Maximum fare per traveler in USD.", example=450.0),
    nonstop_only: bool = Query(False, description="If true, only return flights with zero stops.", example=True),
    cabin_class: Optional[str] = Query(None, description="Cabin class: economy, premium_economy, business or first.", example="economy"),
) -> FlightSearchResponse:
    session = SessionLocal()
    now = now_utc()
    q = session.query(Flight).filter(
        Flight.origin == origin.upper(),
        Flight.destination == destination.upper(),
        Flight.departure_time >= now,
        Flight.departure_time <= now + timedelta(days=departing_within_days),
        Flight.seats_available > 0,
    )
    if max_price is not None:
        q = q.filter(Flight.price <= max_price)
    if nonstop_only:
        q = q.filter(Flight.stops == 0)
    if cabin_class:
        q = q.filter(Flight.cabin_class == cabin_class)
    flights = [flight_model(f) for f in q.order_by(Flight.price.asc(), Flight.departure_time.asc()).all()]
    session.close()
    return FlightSearchResponse(flights=flights)


@app.get(
    "/api/hotels/search",
    response_model=HotelSearchResponse,
    summary="Search hotels",
    description="Find hotels with free rooms in a city, filtering by minimum guest rating, maximum nightly rate and required amenities.",
    tags=["hotels", "search"],
    operation_id="search_hotels",
)
async def search_hotels(
    city: str = Query(..., description="City to search in (case-insensitive).", example="New York"),
    min_guest_rating: Optional[float] = Query(None, description="Minimum average guest rating out of 10.", example=8.5),
    max_nightly_rate: Optional[float] = Query(None, description="Maximum nightly rate in USD.", example=350.0),
    amenities: Optional[List[str]] = Query(None, description="Amenities the hotel must all offer, e.g. wifi, gym, pool, breakfast.", example=["wifi", "gym"]),
    limit: int = Query(10, ge=1, le=50, description="Maximum number of hotels to return.", example=10),
) -> HotelSearchResponse:
    session = SessionLocal()
    q = session.query(Hotel).filter(Hotel.city.ilike(city), Hotel.rooms_available > 0)
    if min_guest_rating is not None:
        q = q.filter(Hotel.guest_rating >= min_guest_rating)
    if max_nightly_rate is not None:
        q = q.filter(Hotel.nightly_rate <= max_nightly_rate)
    hotels: List[HotelModel] = []
    wanted = {a.strip().lower() for a in (amenities or []) if a.strip()}
    for h in q.order_by(Hotel.guest_rating.desc(), Hotel.nightly_rate.asc()).all():
        offered = [a.strip() for a in (h.amenities or "").split(",") if a.strip()]
        if not wanted.issubset({a.lower() for a in offered}):
            continue
        hotels.append(
            HotelModel(
                id=h.id,
                name=h.name,
                city=h.city,
                address=h.address,
                star_rating=h.star_rating,
                guest_rating=h.guest_rating,
                nightly_rate=h.nightly_rate,
                amenities=offered,
                rooms_available=h.rooms_available,
            )
        )
        if len(hotels) >= limit:
            break
    session.close()
    return HotelSearchResponse(hotels=hotels)


# ---------------------------------------------------------------------------
# Travelers
# ---------------------------------------------------------------------------


@app.get(
    "/api/travelers",
    response_model=TravelerListResponse,
    summary="List my saved travelers",
    description="List the traveler profiles saved on the current user's account, primary traveler first.",
    tags=["travelers"],
    operation_id="list_my_travelers",
)
async def list_my_travelers() -> TravelerListResponse:
    session = SessionLocal()
    user_id = 1
    travelers = (
        session.query(Traveler)
        .filter(Traveler.user_id == user_id)
        .order_by(Traveler.is_primary.desc(), Traveler.id.asc())
        .all()
    )
    result = TravelerListResponse(travelers=[traveler_model(t) for t in travelers])
    session.close()
    return result


@app.post(
    "/api/travelers",
    response_model=TravelerResponse,
    summary="Add a traveler",
    description="Save a new traveler profile with passport details to the current user's account.",
    tags=["travelers"],
    operation_id="add_traveler",
)
async def add_traveler(
    body: TravelerBody = Body(..., description="Traveler details."),
) -> TravelerResponse:
    session = SessionLocal()
    user_id = 1
    check_passport_unique(session, body.passport_number)
    if body.is_primary:
        session.query(Traveler).filter(Traveler.user_id == user_id).update({Traveler.is_primary: False})
    traveler = Traveler(
        user_id=user_id,
        first_name=body.first_name,
        last_name=body.last_name,
        date_of_birth=body.date_of_birth,
        passport_number=body.passport_number,
        nationality=body.nationality,
        is_primary=body.is_primary,
        created_at=now_utc(),
        updated_at=now_utc(),
    )
    session.add(traveler)
    session.commit()
    session.refresh(traveler)
    result = TravelerResponse(traveler=traveler_model(traveler))
    session.close()
    return result


@app.put(
    "/api/travelers/{traveler_id}",
    response_model=TravelerResponse,
    summary="Replace a traveler's details",
    description="Overwrite every field of one of the current user's saved travelers, for example after a passport renewal.",
    tags=["travelers"],
    operation_id="update_traveler",
)
async def update_traveler(
    traveler_id: int = Path(..., description="ID of the traveler profile to overwrite.", example=2),
    body: TravelerUpdateBody = Body(..., description="Complete replacement traveler details."),
) -> TravelerResponse:
    session = SessionLocal()
    user_id = 1
    traveler = session.query(Traveler).filter(Traveler.id == traveler_id, Traveler.user_id == user_id).first()
    if traveler is None:
        session.close()
        raise HTTPException(status_code=404, detail="Traveler not found")
    check_passport_unique(session, body.passport_number, exclude_id=traveler.id)
    if body.is_primary:
        session.query(Traveler).filter(Traveler.user_id == user_id, Traveler.id != traveler.id).update({Traveler.is_primary: False})
    traveler.first_name = body.first_name
    traveler.last_name = body.last_name
    traveler.date_of_birth = body.date_of_birth
    traveler.passport_number = body.passport_number
    traveler.nationality = body.nationality
    traveler.is_primary = body.is_primary
    traveler.updated_at = now_utc()
    session.commit()
    session.refresh(traveler)
    result = TravelerResponse(traveler=traveler_model(traveler))
    session.close()
    return result


# ---------------------------------------------------------------------------
# Bookings
# ---------------------------------------------------------------------------


@app.post(
    "/api/bookings/flights",
    response_model=BookingResponse,
    summary="Book a flight",
    description="Book seats on a flight for one or more saved travelers, optionally paying part of the fare with loyalty points.",
    tags=["bookings", "flights"],
    operation_id="book_flight",
)
async def book_flight(
    body: FlightBookingBody = Body(..., description="Flight booking request."),
) -> BookingResponse:
    session = SessionLocal()
    user_id = 1
    flight = session.query(Flight).filter(Flight.id == body.flight_id).first()
    if flight is None:
        session.close()
        raise HTTPException(status_code=404, detail="Flight not found")
    traveler_ids = list(dict.fromkeys(body.traveler_ids))
    if not traveler_ids:
        session.close()
        raise HTTPException(status_code=400, detail="At least one traveler is required")
    travelers = session.query(Traveler).filter(Traveler.id.in_(traveler_ids), Traveler.user_id == user_id).all()
    if len(travelers) != len(traveler_ids):
        session.close()
        raise HTTPException(status_code=404, detail="Traveler not found")
    if flight.seats_available < len(traveler_ids):
        session.close()
        raise HTTPException(status_code=400, detail="Not enough seats available")
    total = round(flight.price * len(traveler_ids), 2)
    account = session.query(LoyaltyAccount).filter(LoyaltyAccount.user_id == user_id).first()
    points_redeemed = 0
    if body.use_loyalty_points and account is not None and account.points_balance > 0:
        max_points = int(total * POINTS_PER_DOLLAR_REDEEMED)
        points_redeemed = min(account.points_balance, max_points)
    amount_paid = round(total - points_redeemed / POINTS_PER_DOLLAR_REDEEMED, 2)
    points_earned = int(amount_paid * POINTS_PER_DOLLAR) if account is not None else 0
    booking = Booking(
        user_id=user_id,
        booking_type="flight",
        flight_id=flight.id,
        status="confirmed",
        confirmation_code="PENDING",
        total_price=total,
        amount_paid=amount_paid,
        points_redeemed=points_redeemed,
        points_earned=points_earned,
        seat_preference=body.seat_preference,
        created_at=now_utc(),
        updated_at=now_utc(),
    )
    session.add(booking)
    session.flush()
    booking.confirmation_code = make_confirmation_code(booking.id)
    for tid in traveler_ids:
        session.add(BookingTraveler(booking_id=booking.id, traveler_id=tid))
    flight.seats_available = flight.seats_available - len(traveler_ids)
    if account is not None:
        label = f"Flight {flight.flight_number} {flight.origin}-{flight.destination}"
        if points_redeemed:
            session.add(LoyaltyTransaction(account_id=account.id, booking_id=booking.id, transaction_type="redeem", points=-points_redeemed, description=label, created_at=now_utc()))
        session.add(LoyaltyTransaction(account_id=account.id, booking_id=booking.id, transaction_type="earn", points=points_earned, description=label, created_at=now_utc()))
        account.points_balance = account.points_balance - points_redeemed + points_earned
        account.lifetime_points_earned = account.lifetime_points_earned + points_earned
        account.tier = tier_for(account.lifetime_points_earned)
        account.updated_at = now_utc()
    session.commit()
    session.refresh(booking)
    result = BookingResponse(booking=booking_model(session, booking))
    session.close()
    return result


@app.get(
    "/api/bookings",
    response_model=BookingListResponse,
    summary="List my bookings",
    description="List the current user's flight and hotel bookings, filtering by status, booking type and whether the trip is still upcoming.",
    tags=["bookings"],
    operation_id="list_my_bookings",
)
async def list_my_bookings(
    status: Optional[str] = Query(None, description="Only return bookings with this status (confirmed, cancelled, completed).", example="confirmed"),
    booking_type: Optional[str] = Query(None, description="Only return bookings of this type (flight or hotel).", example="flight"),
    upcoming_only: bool = Query(False, description="If true, only return bookings whose departure or check-in is in the future.", example=True),
) -> BookingListResponse:
    session = SessionLocal()
    user_id = 1
    q = session.query(Booking).filter(Booking.user_id == user_id)
    if status:
        q = q.filter(Booking.status == status)
    if booking_type:
        q = q.filter(Booking.booking_type == booking_type)
    now = now_utc()
    bookings: List[BookingModel] = []
    for b in q.order_by(Booking.created_at.desc()).all():
        model = booking_model(session, b)
        if upcoming_only and (model.start_date is None or model.start_date < now):
            continue
        bookings.append(model)
    session.close()
    return BookingListResponse(bookings=bookings)


@app.patch(
    "/api/bookings/{booking_id}",
    response_model=BookingResponse,
    summary="Update booking preferences",
    description="Change the seat preference or special requests on one of the current user's confirmed bookings.",
    tags=["bookings"],
    operation_id="update_booking_preferences",
)
async def update_booking_preferences(
    booking_id: int = Path(..., description="ID of the booking to update.", example=1),
    body: BookingUpdateBody = Body(..., description="Preference fields to change."),
) -> BookingResponse:
    session = SessionLocal()
    user_id = 1
    booking = session.query(Booking).filter(Booking.id == booking_id, Booking.user_id == user_id).first()
    if booking is None:
        session.close()
        raise HTTPException(status_code=404, detail="Booking not found")
    if booking.status != "confirmed":
        session.close()
        raise HTTPException(status_code=400, detail="Only confirmed bookings can be changed")
    if body.seat_preference is not None:
        booking.seat_preference = body.seat_preference
    if body.special_requests is not None:
        booking.special_requests = body.special_requests
    booking.updated_at = now_utc()
    session.commit()
    session.refresh(booking)
    result = BookingResponse(booking=booking_model(session, booking))
    session.close()
    return result


@app.delete(
    "/api/bookings/{booking_id}",
    response_model=BookingCancelResponse,
    summary="Cancel a booking",
    description="Cancel one of the current user's confirmed bookings, releasing seats or rooms, refunding the payment and returning redeemed points.",
    tags=["bookings"],
    operation_id="cancel_booking",
)
async def cancel_booking(
    booking_id: int = Path(..., description="ID of the booking to cancel.", example=2),
) -> BookingCancelResponse:
    session = SessionLocal()
    user_id = 1
    booking = session.query(Booking).filter(Booking.id == booking_id, Booking.user_id == user_id).first()
    if booking is None:
        session.close()
        raise HTTPException(status_code=404, detail="Booking not found")
    if booking.status != "confirmed":
        session.close()
        raise HTTPException(status_code=400, detail="Only confirmed bookings can be cancelled")
    traveler_count = session.query(BookingTraveler).filter(BookingTraveler.booking_id == booking.id).count()
    if booking.booking_type == "flight" and booking.flight_id:
        flight = session.query(Flight).filter(Flight.id == booking.flight_id).first()
        if flight is not None:
            flight.seats_available = flight.seats_available + max(traveler_count, 1)
    elif booking.booking_type == "hotel" and booking.hotel_id:
        hotel = session.query(Hotel).filter(Hotel.id == booking.hotel_id).first()
        if hotel is not None:
            hotel.rooms_available = hotel.rooms_available + 1
    account = session.query(LoyaltyAccount).filter(LoyaltyAccount.user_id == user_id).first()
    points_refunded = booking.points_redeemed or 0
    if account is not None:
        if points_refunded:
            session.add(LoyaltyTransaction(account_id=account.id, booking_id=booking.id, transaction_type="refund", points=points_refunded, description=f"Cancellation {booking.confirmation_code}", created_at=now_utc()))
        if booking.points_earned:
            session.add(LoyaltyTransaction(account_id=account.id, booking_id=booking.id, transaction_type="reversal", points=-booking.points_earned, description=f"Cancellation {booking.confirmation_code}", created_at=now_utc()))
        account.points_balance = max(0, account.points_balance + points_refunded - (booking.points_earned or 0))
        account.lifetime_points_earned = max(0, account.lifetime_points_earned - (booking.points_earned or 0))
        account.updated_at = now_utc()
    refund_amount = booking.amount_paid
    booking.status = "cancelled"
    booking.updated_at = now_utc()
    session.commit()
    session.refresh(booking)
    result = BookingCancelResponse(booking=booking_model(session, booking), refund_amount=refund_amount, points_refunded=points_refunded)
    session.close()
    return result


# ---------------------------------------------------------------------------
# Loyalty
# ---------------------------------------------------------------------------


@app.get(
    "/api/loyalty/summary",
    response_model=LoyaltySummaryResponse,
    summary="Get my loyalty summary",
    description="Show the current user's loyalty tier, redeemable points, progress toward the next tier and the ten most recent point transactions.",
    tags=["loyalty"],
    operation_id="get_loyalty_summary",
)
async def get_loyalty_summary() -> LoyaltySummaryResponse:
    session = SessionLocal()
    user_id = 1
    account = session.query(LoyaltyAccount).filter(LoyaltyAccount.user_id == user_id).first()
    if account is None:
        session.close()
        raise HTTPException(status_code=404, detail="Loyalty account not found")
    next_tier = None
    points_to_next = 0
    for name, threshold in TIER_THRESHOLDS:
        if threshold > account.lifetime_points:
            next_tier = name
            points_to_next = threshold - account.lifetime_points
            break
    transactions = (
        session.query(LoyaltyTransaction)
        .filter(LoyaltyTransaction.account_id == account.id)
        .order_by(LoyaltyTransaction.created_at.desc())
        .limit(10)
        .all()
    )
    result = LoyaltySummaryResponse(
        program_name=account.program_name,
        member_number=account.member_number,
        tier=account.tier,
        points_balance=account.points_balance,
        lifetime_points=account.lifetime_points,
        next_tier=next_tier,
        points_to_next_tier=points_to_next,
        tier_expires_at=account.tier_expires_at,
        recent_transactions=[
            LoyaltyTransactionModel(
                id=t.id,
                transaction_type=t.transaction_type,
                points=t.points,
                description=t.description,
                created_at=t.created_at,
            )
            for t in transactions
        ],
    )
    session.close()
    return result


if __name__ == "__main__":
    import uvicorn

    host = os.getenv("HOST", "127.0.0.1")
    port = int(os.getenv("PORT", "8000"))
    uvicorn.run(app, host=host, port=port)
