//! The fixed K-Series restaurant group: businesses, locations, menu, tax rates, payment methods.
//!
//! Three locations cover the time-zone traps: two in Europe/London (DST, including the spring-
//! forward gap hit by late sales) and one in Pacific/Auckland (UTC+12/+13, so a business day
//! straddles two UTC dates).

use super::{
    AccountingGroup, Category, ItemKind, KBusiness, KItem, KLocation, PaymentMethod, TaxRate,
};
use rust_decimal::Decimal;

/// The whole group.
#[derive(Debug, Clone)]
pub struct KCatalog {
    pub businesses: Vec<KBusiness>,
    pub locations: Vec<KLocation>,
}

impl KCatalog {
    pub fn location(&self, id: i64) -> Option<(usize, &KLocation)> {
        self.locations.iter().enumerate().find(|(_, l)| l.id == id)
    }
}

fn dec(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

const MENU: &[(Category, &str, i64)] = &[
    (Category::Starter, "Soup of the Day", 650),
    (Category::Starter, "Garlic Bread", 495),
    (Category::Starter, "Calamari", 850),
    (Category::Starter, "Burrata", 950),
    (Category::Starter, "Chicken Wings", 795),
    (Category::Starter, "Prawn Cocktail", 895),
    (Category::Starter, "Bruschetta", 695),
    (Category::Starter, "Halloumi Fries", 650),
    (Category::Starter, "Scotch Egg", 725),
    (Category::Starter, "Smoked Mackerel Pâté", 750),
    (Category::Main, "Burger", 1450),
    (Category::Main, "Cheeseburger", 1550),
    (Category::Main, "Vegan Burger", 1400),
    (Category::Main, "Fish and Chips", 1695),
    (Category::Main, "Ribeye Steak", 2800),
    (Category::Main, "Sirloin Steak", 2400),
    (Category::Main, "Chicken Supreme", 1850),
    (Category::Main, "Pork Belly", 1900),
    (Category::Main, "Lamb Shank", 2100),
    (Category::Main, "Wild Mushroom Risotto", 1500),
    (Category::Main, "Mushroom Pie", 1550),
    (Category::Main, "Steak Pie", 1650),
    (Category::Main, "Caesar Salad", 1250),
    (Category::Main, "Salmon Fillet", 1950),
    (Category::Main, "Sea Bass", 2150),
    (Category::Main, "Margherita Pizza", 1200),
    (Category::Main, "Pepperoni Pizza", 1350),
    (Category::Main, "Spaghetti Carbonara", 1400),
    (Category::Main, "Lasagne", 1500),
    (Category::Main, "Sunday Roast", 1995),
    (Category::Side, "Fries", 400),
    (Category::Side, "Sweet Potato Fries", 450),
    (Category::Side, "Onion Rings", 400),
    (Category::Side, "Side Salad", 395),
    (Category::Side, "Mac and Cheese", 550),
    (Category::Side, "Tenderstem Broccoli", 450),
    (Category::Side, "Mash", 400),
    (Category::Side, "Coleslaw", 300),
    (Category::Dessert, "Sticky Toffee Pudding", 750),
    (Category::Dessert, "Chocolate Brownie", 695),
    (Category::Dessert, "Cheesecake", 695),
    (Category::Dessert, "Crème Brûlée", 725),
    (Category::Dessert, "Ice Cream", 550),
    (Category::Dessert, "Apple Crumble", 695),
    (Category::Dessert, "Eton Mess", 650),
    (Category::Dessert, "Cheese Board", 950),
    (Category::Soft, "Cola", 320),
    (Category::Soft, "Diet Cola", 320),
    (Category::Soft, "Lemonade", 320),
    (Category::Soft, "Orange Juice", 350),
    (Category::Soft, "Apple Juice", 350),
    (Category::Soft, "Still Water", 250),
    (Category::Soft, "Sparkling Water", 250),
    (Category::Soft, "Ginger Beer", 350),
    (Category::Soft, "Elderflower Pressé", 380),
    (Category::Soft, "Tonic Water", 200),
    (Category::Hot, "Espresso", 260),
    (Category::Hot, "Americano", 300),
    (Category::Hot, "Flat White", 340),
    (Category::Hot, "Cappuccino", 340),
    (Category::Hot, "Latte", 350),
    (Category::Hot, "Tea", 280),
    (Category::Hot, "Hot Chocolate", 360),
    (Category::Hot, "Mocha", 380),
    (Category::Beer, "Lager Pint", 580),
    (Category::Beer, "IPA Pint", 640),
    (Category::Beer, "Stout Pint", 600),
    (Category::Beer, "Cider Pint", 590),
    (Category::Beer, "Lager Half", 310),
    (Category::Beer, "IPA Half", 340),
    (Category::Beer, "Pale Ale Bottle", 550),
    (Category::Beer, "Alcohol-Free Beer", 450),
    (Category::Beer, "Wheat Beer", 620),
    (Category::Beer, "Session Ale Pint", 560),
    (Category::Wine, "House Red Glass", 650),
    (Category::Wine, "House White Glass", 650),
    (Category::Wine, "Rosé Glass", 675),
    (Category::Wine, "Prosecco Glass", 750),
    (Category::Wine, "Malbec Bottle", 3200),
    (Category::Wine, "Sauvignon Blanc Bottle", 2900),
    (Category::Wine, "Pinot Grigio Bottle", 2700),
    (Category::Wine, "Rioja Bottle", 3000),
    (Category::Wine, "Champagne Bottle", 6500),
    (Category::Wine, "Port", 550),
    (Category::Spirit, "Gin and Tonic", 850),
    (Category::Spirit, "Whisky", 650),
    (Category::Spirit, "Vodka Soda", 750),
    (Category::Spirit, "Rum and Coke", 750),
    (Category::Spirit, "Negroni", 1000),
    (Category::Spirit, "Espresso Martini", 1100),
    (Category::Spirit, "Margarita", 1050),
    (Category::Spirit, "Old Fashioned", 1100),
    (Category::Takeaway, "Takeaway Sandwich", 550),
    (Category::Takeaway, "Takeaway Salad Box", 650),
    (Category::Takeaway, "Takeaway Fruit Pot", 350),
    (Category::Takeaway, "Takeaway Cake Slice", 395),
    (Category::HotTakeaway, "Takeaway Coffee", 280),
    (Category::HotTakeaway, "Takeaway Tea", 240),
    (Category::Weighed, "Ribeye by Weight (100g)", 750),
    (Category::Weighed, "Pick and Mix (100g)", 180),
    (Category::Modifier, "Extra Cheese", 150),
    (Category::Modifier, "Add Bacon", 200),
    (Category::Modifier, "Add Avocado", 200),
    (Category::Modifier, "Gluten Free Bun", 100),
    (Category::Modifier, "No Onions", 0),
    (Category::Modifier, "Well Done", 0),
    (Category::Modifier, "Medium Rare", 0),
    (Category::Modifier, "Extra Shot", 60),
    (Category::Modifier, "Oat Milk", 50),
    (Category::Modifier, "Double Spirit", 350),
    (Category::Combo, "Lunch Deal", 1450),
    (Category::Combo, "Burger Meal", 1750),
    (Category::Combo, "Pizza and Pint", 1800),
    (Category::Combo, "Kids Meal", 950),
];

fn sku_prefix(c: Category) -> &'static str {
    match c {
        Category::Starter => "ST",
        Category::Main => "MN",
        Category::Side => "SD",
        Category::Dessert => "DS",
        Category::Soft => "SF",
        Category::Hot => "HT",
        Category::Beer => "BR",
        Category::Wine => "WN",
        Category::Spirit => "SP",
        Category::Takeaway => "TA",
        Category::HotTakeaway => "TH",
        Category::Weighed => "WG",
        Category::Modifier => "MOD",
        Category::Combo => "CMB",
    }
}

/// Accounting-group / statistic-group label of a category.
pub fn category_label(c: Category) -> &'static str {
    match c {
        Category::Starter | Category::Main | Category::Side | Category::Dessert => "Food",
        Category::Takeaway | Category::HotTakeaway => "Takeaway",
        Category::Weighed => "Food",
        Category::Soft | Category::Hot => "Drinks",
        Category::Beer | Category::Wine | Category::Spirit => "Alcohol",
        Category::Modifier => "Food",
        Category::Combo => "Food",
    }
}

fn groups(base: i64) -> [AccountingGroup; 4] {
    [
        AccountingGroup {
            id: base + 1,
            name: "Food",
            code: "4000",
        },
        AccountingGroup {
            id: base + 2,
            name: "Drinks",
            code: "4010",
        },
        AccountingGroup {
            id: base + 3,
            name: "Alcohol",
            code: "4020",
        },
        AccountingGroup {
            id: base + 4,
            name: "Takeaway",
            code: "4030",
        },
    ]
}

fn menu(
    business: usize,
    price_factor: (i64, i64),
    tax_of: impl Fn(Category) -> usize,
) -> Vec<KItem> {
    let grp = groups(141_948_669_132_800 + business as i64 * 100);
    let mut counters = std::collections::HashMap::new();
    MENU.iter()
        .enumerate()
        .map(|(i, (cat, name, cents))| {
            let n = counters.entry(sku_prefix(*cat)).or_insert(0u32);
            *n += 1;
            // Prices scale by a rational factor and land on 10-cent steps outside the UK.
            let scaled = cents * price_factor.0 / price_factor.1;
            let price = if price_factor == (1, 1) {
                *cents
            } else {
                (scaled + 5) / 10 * 10
            };
            let label = category_label(*cat);
            let group = grp
                .iter()
                .find(|g| g.name == label)
                .cloned()
                .unwrap_or_else(|| grp[0].clone());
            let kind = match cat {
                Category::Modifier => ItemKind::Modifier,
                Category::Combo => ItemKind::Combo,
                Category::Weighed => ItemKind::Weighed,
                _ => ItemKind::Item,
            };
            KItem {
                id: 3_012_455_000 + business as i64 * 10_000 + i as i64,
                name: (*name).to_string(),
                sku: format!("{}-{:03}", sku_prefix(*cat), n),
                price: dec(price),
                cost: dec(price * 32 / 100),
                tax: tax_of(*cat),
                group,
                category: *cat,
                kind,
                active: true,
                deleted: false,
            }
        })
        .collect()
}

/// Builds the restaurant group.
pub fn restaurant_group() -> KCatalog {
    let uk_taxes = vec![
        TaxRate {
            id: 41_910_290_874_374,
            code: "VAT20",
            description: "VAT 20%",
            percent: Decimal::from(20),
            accounting_reference: "2200",
        },
        TaxRate {
            id: 41_910_290_874_375,
            code: "VAT5",
            description: "VAT 5%",
            percent: Decimal::from(5),
            accounting_reference: "2201",
        },
        TaxRate {
            id: 41_910_290_874_376,
            code: "VAT0",
            description: "Zero rated",
            percent: Decimal::ZERO,
            accounting_reference: "2202",
        },
    ];
    let nz_taxes = vec![TaxRate {
        id: 41_910_290_875_001,
        code: "GST15",
        description: "GST 15%",
        percent: Decimal::from(15),
        accounting_reference: "2300",
    }];
    let uk_pm = vec![
        PaymentMethod {
            id: 141_948_669_132_824,
            code: "CASH",
            name: "Cash",
            accounting_reference: "1000",
        },
        PaymentMethod {
            id: 141_948_669_132_825,
            code: "CARD",
            name: "Card",
            accounting_reference: "1010",
        },
        PaymentMethod {
            id: 141_948_669_132_826,
            code: "AMEX",
            name: "American Express",
            accounting_reference: "1011",
        },
        PaymentMethod {
            id: 141_948_669_132_827,
            code: "GIFTCARD",
            name: "Gift Card",
            accounting_reference: "2400",
        },
    ];
    let nz_pm = vec![
        PaymentMethod {
            id: 141_948_669_133_024,
            code: "CASH",
            name: "Cash",
            accounting_reference: "1000",
        },
        PaymentMethod {
            id: 141_948_669_133_025,
            code: "EFTPOS",
            name: "EFTPOS",
            accounting_reference: "1012",
        },
        PaymentMethod {
            id: 141_948_669_133_026,
            code: "CARD",
            name: "Credit Card",
            accounting_reference: "1010",
        },
    ];
    let uk_items = menu(0, (1, 1), |c| match c {
        Category::Takeaway => 2,
        Category::HotTakeaway => 1,
        _ => 0,
    });
    let nz_items = menu(1, (18, 10), |_| 0);
    let businesses = vec![
        KBusiness {
            id: 4_382_910,
            name: "Copper Pot Group UK".into(),
            currency: "GBP",
            tax_rates: uk_taxes,
            payment_methods: uk_pm,
            items: uk_items,
        },
        KBusiness {
            id: 4_382_977,
            name: "Copper Pot Group NZ".into(),
            currency: "NZD",
            tax_rates: nz_taxes,
            payment_methods: nz_pm,
            items: nz_items,
        },
    ];
    let staff = |base: i64, names: &[&str]| -> Vec<(i64, String)> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (base + i as i64, (*n).to_string()))
            .collect()
    };
    let devices = |base: i64| -> Vec<(i64, String)> {
        (0..3)
            .map(|i| (base + i, format!("ipad{}", i + 1)))
            .collect()
    };
    let locations = vec![
        KLocation {
            id: 45_454_565_682_155,
            name: "Copper Pot – Soho".into(),
            country: "GB",
            tz: chrono_tz::Europe::London,
            business: 0,
            code: 65315,
            base_sales: 120,
            service_charge_pct: Decimal::new(125, 1),
            cash_rounding: Decimal::new(1, 2),
            staff: staff(14_670, &["Manager", "Amelia", "Oliver", "Priya"]),
            devices: devices(75_125),
            revenue_center_id: 141_948_669_132_822,
        },
        KLocation {
            id: 45_454_565_682_301,
            name: "Copper Pot – Leeds".into(),
            country: "GB",
            tz: chrono_tz::Europe::London,
            business: 0,
            code: 65402,
            base_sales: 80,
            service_charge_pct: Decimal::new(100, 1),
            cash_rounding: Decimal::new(1, 2),
            staff: staff(14_780, &["Manager", "Harry", "Sofia"]),
            devices: devices(75_225),
            revenue_center_id: 141_948_669_132_922,
        },
        KLocation {
            id: 45_454_565_690_017,
            name: "Copper Pot – Ponsonby".into(),
            country: "NZ",
            tz: chrono_tz::Pacific::Auckland,
            business: 1,
            code: 71880,
            base_sales: 95,
            service_charge_pct: Decimal::ZERO,
            cash_rounding: Decimal::new(10, 2),
            staff: staff(18_040, &["Manager", "Aroha", "Liam", "Mei"]),
            devices: devices(76_410),
            revenue_center_id: 141_948_669_133_022,
        },
    ];
    KCatalog {
        businesses,
        locations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_has_enough_items_and_locations() {
        let c = restaurant_group();
        assert!(c.locations.len() >= 3);
        for b in &c.businesses {
            assert!(b.items.len() >= 100);
            let skus: std::collections::HashSet<_> = b.items.iter().map(|i| &i.sku).collect();
            assert_eq!(skus.len(), b.items.len(), "SKUs are unique");
        }
    }
}
