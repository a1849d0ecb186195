"""Deterministic, realistic catalog data: `uv run catalog-seed --count 20000`.

Product i always gets the id uuid5(NAMESPACE, "product-i") and the same fields for a given
`--seed`, so reruns upsert the same rows. Writes go through CatalogService.create_product,
the path POST /products takes, with a bounded number of products in flight.
Settings come from the environment (CATALOG_ prefix), like the service itself.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kit.app import connect_with_retry
from kit.cassandra import CassandraDB
from kit.migrations import migrate
from tqdm import tqdm

from catalog.config import CatalogSettings
from catalog.repository import MIGRATIONS, CatalogRepository
from catalog.schemas import ProductCreate
from catalog.service import CatalogService

NAMESPACE = uuid.UUID("5f1d7a52-3c4b-4e8e-9a51-0c6f3f0b7a10")


@dataclass(frozen=True)
class CategorySpec:
    brands: tuple[str, ...]
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    price_range: tuple[int, int]  # whole currency units


CATALOG: dict[str, CategorySpec] = {
    "Electronics": CategorySpec(
        ("Voltra", "Nexon", "Auralis", "Kestrel", "Lumina", "Quantix"),
        ("Wireless", "Smart", "Compact", "Ultra HD", "Noise-Cancelling", "Portable"),
        ("Headphones", "Speaker", "Monitor", "Webcam", "Charger", "Tablet", "Earbuds", "Router"),
        (9, 1499),
    ),
    "Books": CategorySpec(
        ("Harbor Press", "Quill & Co", "Northwind Books", "Lantern House", "Meridian"),
        ("Illustrated", "Annotated", "Complete", "Pocket", "Collector's", "Revised"),
        ("Cookbook", "Novel", "Field Guide", "Atlas", "Anthology", "Biography", "Workbook"),
        (5, 79),
    ),
    "Home & Kitchen": CategorySpec(
        ("Casa Verde", "Hearthstone", "Kitchara", "Nordholm", "Oakridge"),
        ("Stainless", "Non-Stick", "Ceramic", "Cast Iron", "Bamboo", "Insulated"),
        ("Frying Pan", "Knife Set", "Cutting Board", "Kettle", "Blender", "Mixing Bowls"),
        (8, 399),
    ),
    "Toys": CategorySpec(
        ("Playforge", "Tinytown", "Brightblock", "Wonderbox", "Jollytoy"),
        ("Wooden", "Magnetic", "Glow-in-the-Dark", "Interactive", "Classic", "Deluxe"),
        ("Building Set", "Puzzle", "Race Car", "Doll House", "Robot Kit", "Board Game"),
        (6, 149),
    ),
    "Sports": CategorySpec(
        ("Stridex", "Peakform", "Velocity", "Trailmark", "Coreline"),
        ("Lightweight", "Pro", "Adjustable", "Training", "Competition", "All-Weather"),
        ("Yoga Mat", "Dumbbell Set", "Jump Rope", "Football", "Tennis Racket", "Bike Helmet"),
        (7, 499),
    ),
    "Garden": CategorySpec(
        ("Greenfield", "Bloomwell", "Terra Nova", "Rootstock", "Sunpatch"),
        ("Heavy-Duty", "Ergonomic", "Weatherproof", "Solar", "Expandable", "Galvanized"),
        ("Garden Hose", "Pruning Shears", "Planter", "Watering Can", "Lawn Sprinkler", "Trowel"),
        (5, 299),
    ),
    "Beauty": CategorySpec(
        ("Lumiere", "Velvetine", "Purely", "Rosewater Lab", "Aurelle"),
        ("Hydrating", "Matte", "Vitamin C", "Fragrance-Free", "Organic", "Long-Wear"),
        ("Face Serum", "Lipstick", "Moisturizer", "Cleanser", "Eye Palette", "Sunscreen"),
        (4, 129),
    ),
    "Grocery": CategorySpec(
        ("Farmstead", "Golden Harvest", "Pantry Co", "Wildgrain", "Blue Valley"),
        ("Organic", "Whole Grain", "Roasted", "Cold-Pressed", "Sea Salt", "Gluten-Free"),
        ("Coffee Beans", "Olive Oil", "Granola", "Pasta", "Honey", "Green Tea", "Almonds"),
        (2, 49),
    ),
    "Clothing": CategorySpec(
        ("Northline", "Urbanweave", "Cotton & Pine", "Maris", "Fieldcraft"),
        ("Slim-Fit", "Merino", "Linen", "Waterproof", "Relaxed", "Organic Cotton"),
        ("T-Shirt", "Hoodie", "Rain Jacket", "Chinos", "Sweater", "Denim Shirt"),
        (9, 249),
    ),
    "Shoes": CategorySpec(
        ("Stepwell", "Ridgewalk", "Kinetic", "Solemate", "Harbor"),
        ("Running", "Leather", "Trail", "Slip-On", "Waterproof", "Cushioned"),
        ("Sneakers", "Boots", "Loafers", "Sandals", "Hiking Shoes", "Trainers"),
        (19, 299),
    ),
    "Automotive": CategorySpec(
        ("Roadmaster", "Torqline", "Autovia", "Gearhead", "Drivewise"),
        ("Heavy-Duty", "Universal", "Digital", "Cordless", "All-Season", "Magnetic"),
        ("Jump Starter", "Tire Inflator", "Dash Cam", "Floor Mats", "Car Charger", "Wax Kit"),
        (9, 399),
    ),
    "Music": CategorySpec(
        ("Harmonix", "Resonant", "Cadenza", "Tonewood", "Echoline"),
        ("Acoustic", "Electric", "Studio", "Vintage", "Beginner", "Professional"),
        ("Guitar", "Keyboard", "Microphone", "Drum Pad", "Ukulele", "Guitar Strings"),
        (6, 1299),
    ),
    "Office": CategorySpec(
        ("Deskwise", "Papertrail", "Officio", "Inkwell", "Clearmark"),
        ("Ergonomic", "Refillable", "Recycled", "Adjustable", "Magnetic", "Premium"),
        ("Notebook", "Desk Lamp", "Office Chair", "Stapler", "Fountain Pen", "Whiteboard"),
        (3, 499),
    ),
    "Pet Supplies": CategorySpec(
        ("Pawsome", "Furbish", "Tailwag", "Whiskerly", "Petcraft"),
        ("Orthopedic", "Chew-Proof", "Grain-Free", "Self-Cleaning", "Reflective", "Cozy"),
        ("Dog Bed", "Cat Tree", "Leash", "Dog Food", "Litter Box", "Chew Toy"),
        (4, 249),
    ),
    "Health": CategorySpec(
        ("Vitalis", "Wellspring", "Purecare", "Medica", "Everwell"),
        ("Daily", "Digital", "Extra-Strength", "Sugar-Free", "Plant-Based", "Travel"),
        (
            "Multivitamin",
            "Thermometer",
            "Blood Pressure Monitor",
            "Protein Powder",
            "First Aid Kit",
        ),
        (4, 199),
    ),
    "Tools": CategorySpec(
        ("Forgeline", "Ironclad", "Torqmaster", "Buildright", "Steelhand"),
        ("Cordless", "Heavy-Duty", "Magnetic", "Compact", "Professional", "Brushless"),
        ("Drill", "Socket Set", "Hammer", "Tape Measure", "Circular Saw", "Screwdriver Set"),
        (7, 599),
    ),
    "Baby": CategorySpec(
        ("Little Sprout", "Cuddlebee", "Nestling", "Babybloom", "Tinysteps"),
        ("Soft", "Organic", "Convertible", "Hypoallergenic", "Foldable", "BPA-Free"),
        ("Stroller", "Crib Sheet", "Baby Monitor", "Bottle Set", "Play Mat", "Car Seat"),
        (6, 699),
    ),
    "Jewelry": CategorySpec(
        ("Aurum", "Lunara", "Silverline", "Gemwell", "Celestia"),
        ("Sterling Silver", "Gold-Plated", "Handcrafted", "Minimalist", "Vintage", "Rose Gold"),
        ("Necklace", "Earrings", "Bracelet", "Ring", "Pendant", "Charm"),
        (15, 999),
    ),
    "Video Games": CategorySpec(
        ("Pixelforge", "Nova Interactive", "Questline", "Arcadia", "Bitstorm"),
        ("Deluxe Edition", "Remastered", "Collector's", "Open-World", "Co-op", "Retro"),
        ("Adventure", "Racing Game", "Strategy Game", "Controller", "Gaming Headset"),
        (9, 129),
    ),
    "Outdoors": CategorySpec(
        ("Summitline", "Wildtrail", "Basecamp", "Evergreen", "Northstar"),
        ("Ultralight", "Waterproof", "Insulated", "Packable", "4-Season", "Rugged"),
        ("Tent", "Sleeping Bag", "Backpack", "Camping Stove", "Headlamp", "Water Filter"),
        (9, 699),
    ),
}

DESCRIPTIONS = (
    "The {brand} {adjective} {noun} is built for everyday use and designed to last. {extra}",
    "Meet the {adjective} {noun} from {brand}: {extra}",
    "{brand} brings you a {adjective_lower} {noun_lower} that customers love. {extra}",
    "A {adjective_lower} {noun_lower} by {brand}, model {model}. {extra}",
)
EXTRAS = (
    "Backed by a two-year warranty.",
    "Ships in recyclable packaging.",
    "Rated 4.6 out of 5 by verified buyers.",
    "A favourite for gifts.",
    "Easy to clean and simple to set up.",
    "Now in a refreshed design.",
)
ENDINGS = (Decimal("0.99"), Decimal("0.99"), Decimal("0.49"), Decimal("0.00"))


def product_id(i: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"product-{i}")


def generate(count: int, seed: int = 42) -> list[tuple[uuid.UUID, ProductCreate]]:
    """The first `count` products of the deterministic catalog for `seed`."""
    rng = random.Random(seed)
    categories = list(CATALOG)
    products = []
    for i in range(count):
        category = categories[rng.randrange(len(categories))]
        spec = CATALOG[category]
        brand = rng.choice(spec.brands)
        adjective = rng.choice(spec.adjectives)
        noun = rng.choice(spec.nouns)
        model = f"{rng.choice('ABCDEFGHKLMNPRSTVXZ')}{rng.randint(10, 999)}"
        low, high = spec.price_range
        # Skewed towards the cheap end, like real catalogs.
        whole = int(low + (high - low) * rng.random() ** 2.2)
        price = Decimal(whole) + rng.choice(ENDINGS)
        stock = 0 if rng.random() < 0.08 else rng.randint(1, 500)
        description = rng.choice(DESCRIPTIONS).format(
            brand=brand,
            adjective=adjective,
            noun=noun,
            adjective_lower=adjective.lower(),
            noun_lower=noun.lower(),
            model=model,
            extra=rng.choice(EXTRAS),
        )
        data = ProductCreate(
            name=f"{brand} {adjective} {noun} {model}",
            description=description,
            category=category,
            price=max(price, Decimal("0.49")),
            stock=stock,
        )
        products.append((product_id(i), data))
    return products


@dataclass(frozen=True)
class SeedResult:
    written: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


async def seed(
    db: CassandraDB,
    count: int,
    seed: int = 42,
    *,
    concurrency: int = 64,
    settings: CatalogSettings | None = None,
    progress: bool = True,
) -> SeedResult:
    """Upsert the first `count` products of the deterministic catalog into `db`'s keyspace."""
    service = CatalogService(CatalogRepository(db), settings or CatalogSettings())
    products = generate(count, seed)
    bar = tqdm(total=count, unit="product", disable=not progress, file=sys.stderr, mininterval=0.5)

    async def write(pid: uuid.UUID, data: ProductCreate) -> None:
        await service.create_product(data, product_id=pid)
        bar.update()

    started = time.perf_counter()
    try:
        # Bounded fan-out: at most `concurrency` tasks exist at any time.
        pending: set[asyncio.Task[None]] = set()
        for pid, data in products:
            if len(pending) >= concurrency:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            pending.add(asyncio.create_task(write(pid, data)))
        if pending:
            await asyncio.gather(*pending)
    finally:
        bar.close()
    return SeedResult(written=count, seconds=time.perf_counter() - started)


async def run(args: argparse.Namespace) -> int:
    settings = CatalogSettings()
    db = CassandraDB(settings)
    await connect_with_retry(db)
    try:
        await migrate(db, MIGRATIONS)
        if args.if_empty and await CatalogRepository(db).has_products():
            print(f"catalog keyspace {settings.cassandra_keyspace} has products: nothing to do")
            return 0
        result = await seed(
            db, args.count, args.seed, concurrency=args.concurrency, settings=settings
        )
        print(
            f"seeded {result.written} products into {settings.cassandra_keyspace} in "
            f"{result.seconds:.1f} s: {result.per_second:.0f} products/s"
        )
        return 0
    finally:
        db.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="catalog-seed", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="products (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--concurrency", type=int, default=64, help="products in flight")
    parser.add_argument(
        "--if-empty", action="store_true", help="do nothing when the catalog has products"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
