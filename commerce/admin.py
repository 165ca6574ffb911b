"""Commerce in the admin: read-mostly views of what the shop's events built."""

from django.contrib import admin

from .models import Cart, CartItem, Order, Product, ProductInterest


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "currency", "needs_assembly", "updated_at"]
    list_filter = ["needs_assembly", "currency"]
    search_fields = ["sku", "name"]


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    fields = ["position", "product", "name", "quantity", "unit_price"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # carts are snapshots the shop sends, not edited here


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "status", "currency", "value", "item_count", "snapshot_at"]
    list_filter = ["status"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "snapshot_event"]
    search_fields = ["external_id", "customer__display_name"]
    inlines = [CartItemInline]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["external_id", "customer", "currency", "total", "placed_at", "delivered_at"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "cart", "event"]
    search_fields = ["external_id", "customer__display_name"]
    date_hierarchy = "placed_at"


@admin.register(ProductInterest)
class ProductInterestAdmin(admin.ModelAdmin):
    list_display = ["customer", "product", "views", "last_viewed_at"]
    list_select_related = ["customer", "product"]
    raw_id_fields = ["customer", "product"]
